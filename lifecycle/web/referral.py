"""The referral form: a new case under the process new cases start under (the board's
`[process]` setting), its fields the creating trigger's, built from the definition as every
trigger's form is (forms.build), and recorded through Application.open_record as the person
signed in: what the command line's `scr refer` does, for a business manager who never uses
it.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scr.lifecycle.web import auth, forms
from scr.lifecycle.web.identity import Visitor
from scr.lifecycle.web.portal import Portal, checked_form
from scr.states.errors import InvalidInput, Refused


@auth.signed_in
async def referral_page(request: Request) -> Response:
    portal, who = Portal.of(request), request.user
    if request.method == "POST":
        form = await checked_form(request, who.csrf_token)
        outcome = await run_in_threadpool(_refer, portal, who, form)
        if outcome.get("done"):
            return RedirectResponse(f"/cases/{outcome['done']}?done={outcome['trigger']}",
                                    status_code=303)
        return portal.page(request, "refer.html", who, **outcome)
    return portal.page(request, "refer.html", who, **_referral_form(portal, who))


# Before the case pages' /cases/{ref}: "new" is no case's reference.
routes = [
    Route("/cases/new", referral_page, methods=["GET", "POST"], middleware=auth.SESSION),
]


def may_refer(portal: Portal, who: Visitor) -> bool:
    """Whether this person may refer a case (the creating trigger's roles)."""
    from scr.lifecycle.core.judge import role_refusal

    spec = portal.app.processes.starting().definition.create
    return role_refusal(spec, who.actor, None, {}) is None


def _referral_form(portal: Portal, who: Visitor, **shown: Any) -> dict[str, Any]:
    """The referral form of the process new cases start under, and why this person may not
    refer, if they may not."""
    from scr.lifecycle.core.judge import role_refusal

    process = portal.app.processes.starting()
    spec = process.definition.create
    refusal = role_refusal(spec, who.actor, None, {})
    form = forms.build(spec, process.config.agencies, process.config.themes,
                       values=shown.get("values"), errors=shown.get("errors"))
    return {"title": "Refer a case", "spec": spec, "form": form,
            "process": process.definition.title,
            "reasons": [refusal] if refusal else [],
            "summary_errors": shown.get("summary_errors", [])}


def _refer(portal: Portal, who: Visitor, posted: FormData) -> dict[str, Any]:
    """Record the referral posted: the new case's reference, or the form again with every
    field's problem at once (InvalidInput.fields) and the status to answer with."""
    spec = portal.app.processes.starting().definition.create
    raw = forms.submitted(spec, posted)
    again = {"values": forms.shown_values(spec, raw)}
    try:
        opened = portal.app.open_record(raw, actor=lambda tx: who.actor)
    except Refused as exc:
        shown = _referral_form(portal, who, **again, summary_errors=forms.at_the_top(
            list(exc.reasons) or [str(exc)]))
        return {**shown, "status": 422}
    except InvalidInput as exc:
        if exc.fields:
            errors = forms.said(exc.fields)
            shown = _referral_form(portal, who, errors=errors, **again,
                                   summary_errors=forms.summary(errors))
        else:
            shown = _referral_form(portal, who, **again,
                                   summary_errors=forms.at_the_top([str(exc)]))
        return {**shown, "status": 400}
    return {"done": opened.case.ref, "trigger": spec.name}
