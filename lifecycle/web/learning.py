"""The learning register (docs/learning.md): reviews from elsewhere, each a record of the
`learning` process, and the signed-off actions no audit has yet tested; and the form that
registers a review (the process's creating trigger, through Engine.refer as the person
signed in). A record's own page is a case's page (casework.py).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scr.lifecycle.web import access, auth, forms
from scr.lifecycle.web.identity import Visitor
from scr.lifecycle.web.portal import Portal, checked_form
from scr.states.errors import InvalidInput, Refused
from scr.storage import cases
from scr.storage.db import reading, transaction

LEARNING = "learning"  # the learning register's process (states/learning)


@auth.signed_in
async def learning_page(request: Request) -> Response:
    portal, who = Portal.of(request), request.user
    q = request.query_params
    shown = await run_in_threadpool(_learning, portal, who, q.get("state") or None,
                                    q.get("theme") or None, q.get("source") or None)
    return portal.page(request, "learning.html", who, title="Learning register", **shown)


@auth.signed_in
async def register_page(request: Request) -> Response:
    portal, who = Portal.of(request), request.user
    if request.method == "POST":
        form = await checked_form(request, who.csrf_token)
        outcome = await run_in_threadpool(_register, portal, who, form)
        if outcome.get("done"):
            return RedirectResponse(f"/cases/{outcome['done']}?done={outcome['trigger']}",
                                    status_code=303)
        return portal.page(request, "learning_new.html", who, **outcome)
    return portal.page(request, "learning_new.html", who, **_register_form(portal, who))


routes = [
    Route("/learning", learning_page, methods=["GET"], middleware=auth.SESSION),
    Route("/learning/new", register_page, methods=["GET", "POST"], middleware=auth.SESSION),
]


def _learning(portal: Portal, who: Visitor, state: str | None = None,
              theme: str | None = None, source: str | None = None) -> dict[str, Any]:
    """The learning register's records this person may see, by reference (in `state`,
    filed under `theme`, from `source`, where given: a value the register does not know is
    no filter), and whether they may register a review."""
    from scr.lifecycle.core.judge import role_refusal
    from scr.lifecycle.views.documents import iso, opened_with
    from scr.states.learning.v1 import SOURCES
    from scr.storage import learning

    process = portal.app.processes.starting(LEARNING)
    lists = {"states": process.definition.states, "themes": process.config.themes,
             "sources": SOURCES}
    chosen = {"state": state if state in lists["states"] else None,
              "theme": theme if theme in lists["themes"] else None,
              "source": source if source in lists["sources"] else None}
    rows, untested = [], []
    with reading(portal.app.db()) as tx:
        def may_see(ref: str) -> bool:
            return access.may_see(tx, who, cases.load(tx, ref))

        for item in learning.register(tx, **chosen):
            if not may_see(item.ref):
                continue
            definition = portal.app.processes.get(item.definition,
                                                  item.definition_version).definition
            rows.append({"ref": item.ref, **opened_with(definition, item),
                         "state_label": definition.state_label(item.state),
                         "considered_on": iso(item.considered_on)})
        # Signed-off actions no audit has tested, of the cases and records this person
        # may see: where the board has not yet looked whether the learning took hold.
        seen: dict[str, bool] = {}
        for ref, name, a in learning.untested(tx):
            if seen.setdefault(ref, may_see(ref)):
                untested.append({"ref": ref, "pseudonym": name, "action": a.number,
                                 "agency": a.agency,
                                 "signed_off_on": (iso(a.signed_off_at) or "")[:10]})
    spec = process.definition.create
    return {"rows": rows, "untested": untested, "lists": lists, "chosen": chosen,
            "may_register": role_refusal(spec, who.actor, None, {}) is None}


def _register_form(portal: Portal, who: Visitor, **shown: Any) -> dict[str, Any]:
    """The form registering a review from elsewhere (the learning process's creating
    trigger), and why this person may not, if they may not."""
    from scr.lifecycle.core.judge import role_refusal

    process = portal.app.processes.starting(LEARNING)
    spec = process.definition.create
    refusal = role_refusal(spec, who.actor, None, {})
    form = forms.build(spec, process.config.agencies, process.config.themes,
                       values=shown.get("values"), errors=shown.get("errors"))
    return {"title": "Register a review", "spec": spec, "form": form,
            "reasons": [refusal] if refusal else [],
            "summary_errors": shown.get("summary_errors", [])}


def _register(portal: Portal, who: Visitor, posted: FormData) -> dict[str, Any]:
    """Register the review posted, through the engine as the person signed in: the new
    record's reference, or the form again with what is wrong."""
    from scr.lifecycle.views.why import judge_params

    process = portal.app.processes.starting(LEARNING)
    spec = process.definition.create
    raw = forms.submitted(spec, posted)
    again = {"values": forms.shown_values(spec, raw)}
    _, checks = judge_params(spec, raw, process.config, portal.now(), None)
    errors = forms.field_errors(checks)
    if errors:
        shown = _register_form(portal, who, errors=errors,
                               summary_errors=forms.summary(errors), **again)
        return {**shown, "status": 400}
    try:
        with transaction(portal.app.db()) as tx:
            case = portal.app.engine.refer(tx, actor=who.actor, params=raw,
                                           now=portal.now(), process_name=LEARNING)
    except Refused as exc:
        shown = _register_form(portal, who, **again, summary_errors=forms.at_the_top(
            list(exc.reasons) or [str(exc)]))
        return {**shown, "status": 422}
    except InvalidInput as exc:
        shown = _register_form(portal, who, **again,
                               summary_errors=forms.at_the_top([str(exc)]))
        return {**shown, "status": 400}
    return {"done": case.ref, "trigger": spec.name}
