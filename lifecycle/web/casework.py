"""The cases, for the person signed in: their inbox, the list of cases, a case's page and
its timeline picture, each trigger's form and its post (through Engine.fire, as that
person), and what is overdue. A case this person may not see is not found (access.py).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scr.lifecycle.web import access, auth, forms, referral
from scr.lifecycle.web.identity import Visitor
from scr.lifecycle.web.portal import Portal, checked_form
from scr.states.errors import Conflict, InvalidInput, NotFound, Refused
from scr.states.process import DEADLINE_LEVELS
from scr.storage import cases
from scr.storage.db import Tx, reading

INBOX_SIZE = 20  # the most urgent cases an inbox shows (the rest: /cases, /overdue)


@auth.signed_in
async def inbox(request: Request) -> Response:
    portal, who = Portal.of(request), request.user
    items = await run_in_threadpool(_inbox, portal, who)
    return portal.page(request, "inbox.html", who, title="My inbox", items=items)


@auth.signed_in
async def case_list(request: Request) -> Response:
    portal, who = Portal.of(request), request.user
    state = request.query_params.get("state") or None
    overdue = request.query_params.get("overdue") == "1"
    rows = await run_in_threadpool(_cases, portal, who, state, overdue)
    return portal.page(request, "cases.html", who, title="Cases", rows=rows, state=state,
                       overdue=overdue, may_refer=referral.may_refer(portal, who))


@auth.signed_in
async def case_page(request: Request) -> Response:
    portal, who = Portal.of(request), request.user
    ref = request.path_params["ref"]
    found = await run_in_threadpool(_case, portal, who, ref)
    return portal.page(request, "case.html", who, title=f"{ref} {found['doc']['pseudonym']}",
                       fired=request.query_params.get("done"), **found)


@auth.signed_in
async def timeline_picture(request: Request) -> Response:
    portal, who = Portal.of(request), request.user
    return portal.picture(await run_in_threadpool(_timeline, portal, who,
                                                  request.path_params["ref"]))


@auth.signed_in
async def trigger_page(request: Request) -> Response:
    portal, who = Portal.of(request), request.user
    ref, trigger = request.path_params["ref"], request.path_params["trigger"]
    if request.method == "POST":
        form = await checked_form(request, who.csrf_token)
        outcome = await run_in_threadpool(_fire, portal, who, ref, trigger, form)
        if outcome.get("done"):
            return RedirectResponse(f"/cases/{ref}?done={trigger}", status_code=303)
        return portal.page(request, "trigger.html", who, **outcome)
    shown = await run_in_threadpool(_trigger_form, portal, who, ref, trigger)
    return portal.page(request, "trigger.html", who, **shown)


@auth.signed_in
async def overdue_page(request: Request) -> Response:
    portal, who = Portal.of(request), request.user
    entries = await run_in_threadpool(_overdue, portal, who)
    return portal.page(request, "overdue.html", who, title="Overdue", entries=entries)


routes = [
    Route("/", inbox, methods=["GET"], middleware=auth.SESSION),
    Route("/cases", case_list, methods=["GET"], middleware=auth.SESSION),
    Route("/cases/{ref}", case_page, methods=["GET"], middleware=auth.SESSION),
    Route("/cases/{ref}/timeline.svg", timeline_picture, methods=["GET"],
          middleware=auth.SESSION),
    Route("/cases/{ref}/{trigger}", trigger_page, methods=["GET", "POST"],
          middleware=auth.SESSION),
    Route("/overdue", overdue_page, methods=["GET"], middleware=auth.SESSION),
]


# --------------------------------------------------------------- what pages show
def _visible(tx: Tx, who: Visitor, ref: str) -> cases.CaseRecord:
    try:
        case = cases.load(tx, ref)
    except NotFound:
        raise HTTPException(404) from None
    if not access.may_see(tx, who, case):
        raise HTTPException(404)
    return case


def _cases(portal: Portal, who: Visitor, state: str | None,
           overdue: bool) -> list[dict[str, Any]]:
    from scr.lifecycle.views import documents

    with reading(portal.app.db()) as tx:
        rows = documents.case_list(tx, now=portal.now(), levels=DEADLINE_LEVELS, state=state,
                                   overdue_only=overdue,
                                   processes=portal.app.processes.registry.names(referred=True))
        rows = access.visible(tx, who, rows)
    for row in rows:
        process = portal.app.processes.get(row["process"], row["process_version"])
        row["state_label"] = process.definition.state_label(row["state"])
    return rows


def _case(portal: Portal, who: Visitor, ref: str) -> dict[str, Any]:
    """The case read once: its page, and what this person may do next."""
    try:
        read = portal.app.read(ref, reader=lambda tx: who.actor, history=True, judged=True,
                               visible=lambda tx, case: access.may_see(tx, who, case))
    except NotFound:
        raise HTTPException(404) from None
    actions = [v for v in read.verdicts if v.role.ok]
    recommending = read.process.definition.recommending
    recommended = next((h for h in reversed(read.history) if h["trigger"] in recommending),
                       None)
    return {"doc": access.trimmed(who, read.document), "history": read.history,
            "actions": actions, "definition": read.process.definition,
            "recommended": recommended}


def _timeline(portal: Portal, who: Visitor, ref: str) -> str:
    from scr.lifecycle.views.timeline import events, timeline_svg

    now, days = portal.now(), portal.settings.process.working_days
    with reading(portal.app.db()) as tx:
        case = _visible(tx, who, ref)
        found = events(tx, portal.app.processes.of(case), case, now=now, cal=days)
    doc = {"ref": case.ref, "pseudonym": case.pseudonym, "state": case.state,
           "now": now.isoformat(), "events": [e.as_dict() for e in found]}
    return timeline_svg(doc, days)


def _overdue(portal: Portal, who: Visitor) -> list[dict[str, Any]]:
    from scr.lifecycle.views.overdue import overdue

    with reading(portal.app.db()) as tx:
        entries = overdue(tx, portal.app.processes, now=portal.now(), within=0,
                          cal=portal.settings.process.working_days)
        entries = access.visible(tx, who, entries)
    return entries


# ------------------------------------------------------------------ trigger forms
def _trigger_of(tx: Tx, portal: Portal, who: Visitor, ref: str, trigger: str) -> Any:
    """The case (if this person may see it), its process and the trigger (one a person
    fires: else 404)."""
    case = _visible(tx, who, ref)
    process = portal.app.processes.of(case)
    spec = process.definition.trigger(trigger)
    if spec is None or spec is process.definition.create or spec.system_only:
        raise HTTPException(404)
    return case, process, spec


def _trigger_form(portal: Portal, who: Visitor, ref: str, trigger: str,
                  **shown: Any) -> dict[str, Any]:
    from scr.lifecycle.core.judge import judge

    with reading(portal.app.db()) as tx:
        case, process, spec = _trigger_of(tx, portal, who, ref, trigger)
        verdict = judge(process, cases.snapshot(tx, case), spec, actor=who.actor, values={},
                        reason=None, now=portal.now(), with_input=False, judge_scope=False)
        values = shown.get("values")
        if values is None:  # the amendment form shows the referral as it stands
            current = _as_it_stands(tx, process, case, spec)
            values = forms.shown_values(spec, current) if current else None
    form = forms.build(spec, process.config.agencies, process.config.themes,
                       values=values, errors=shown.get("errors"),
                       reason=shown.get("reason", ""))
    return {"title": f"{spec.label}: {ref}", "ref": ref, "pseudonym": case.pseudonym,
            "spec": spec, "form": form, "verdict": verdict, "version": case.version,
            "state_label": process.definition.state_label(case.state),
            "summary_errors": shown.get("summary_errors", []),
            "changed": shown.get("changed", False)}


def _fire(portal: Portal, who: Visitor, ref: str, trigger: str,
          posted: FormData) -> dict[str, Any]:
    """Fire the trigger posted, through the engine as the person signed in: done, or the
    form again with what is wrong and the status to answer with. The engine judges the
    input: a problem with the fields comes back with every field's problem at once
    (InvalidInput.fields)."""
    with reading(portal.app.db()) as tx:
        case, process, spec = _trigger_of(tx, portal, who, ref, trigger)
        current = _as_it_stands(tx, process, case, spec)
    raw = forms.submitted(spec, posted)
    if current:  # an amendment changes only what the person changed in the filled-in form
        raw = {k: v for k, v in raw.items() if _same(current.get(k)) != _same(v)}
    reason = forms.posted_reason(posted)
    again = {"values": forms.shown_values(spec, raw), "reason": reason or ""}
    try:
        portal.app.fire(ref, trigger, actor=lambda tx: who.actor, params=raw, reason=reason,
                        expect_version=forms.posted_version(posted))
    except Conflict:
        shown = _trigger_form(portal, who, ref, trigger, changed=True, **again)
        return {**shown, "status": 409}
    except Refused as exc:
        shown = _trigger_form(portal, who, ref, trigger, **_refusal(exc), **again)
        return {**shown, "status": 422}
    except InvalidInput as exc:
        if exc.fields:
            errors = forms.said(exc.fields)
            shown = _trigger_form(portal, who, ref, trigger, errors=errors, **again,
                                  summary_errors=forms.summary(errors))
        else:
            shown = _trigger_form(portal, who, ref, trigger, **again,
                                  summary_errors=forms.at_the_top([str(exc)]))
        return {**shown, "status": 400}
    return {"done": True}


def _as_it_stands(tx: Tx, process: Any, case: Any, spec: Any) -> dict[str, str] | None:
    """Where `spec` is the definition's amendment (ProcessDefinition.amendment), the
    referral as it stands, each field as a person would type it; else None."""
    from scr.storage import facts

    if spec is not process.definition.amendment:
        return None
    referral = facts.whole(tx, case.id).referral
    if referral is None:
        return None
    found: dict[str, str] = {}
    for param in spec.params:
        value = getattr(referral, param.name, None)
        if value is None or value == [] or value == "":
            continue
        if isinstance(value, bool):
            found[param.name] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            found[param.name] = ",".join(map(str, value))
        elif hasattr(value, "isoformat"):
            found[param.name] = value.isoformat()
        else:
            found[param.name] = str(value)
    return found


def _same(value: str | None) -> str:
    """A field's value compared as typed: line endings and the ends' spaces aside."""
    return (value or "").replace("\r\n", "\n").strip()


def _refusal(exc: Refused) -> dict[str, Any]:
    """A refusal as the form shows it: each reason about a field of the input
    (Refused.fields) links to that field, the reason field says it wants one, and every
    other reason links to the top of the page."""
    field_of = {message: name for name, message in exc.fields.items()}
    errors = {forms.REASON: "Give a reason"} if forms.REASON in exc.fields else {}
    return {"errors": errors, "summary_errors": [
        {"text": r, "href": f"#{field_of[r]}" if r in field_of else "#main-content"}
        for r in list(exc.reasons) or [str(exc)]]}


# ---------------------------------------------------------------------- the inbox
def _inbox(portal: Portal, who: Visitor) -> list[dict[str, Any]]:
    """What this person may do now, on the cases they may see, most urgent first: for the
    INBOX_SIZE most urgent cases in a state where one of their roles may act, each trigger
    they may fire there now (the judge's verdict, before any input), and the case's next
    deadline."""
    from scr.lifecycle.core import notify
    from scr.lifecycle.core.arming import label
    from scr.lifecycle.core.judge import judge_all
    from scr.storage import timers

    actor, processes = who.actor, portal.app.processes
    states = sorted({state for process in processes.every()
                     for state in process.definition.states
                     if state not in process.definition.finals
                     and _acts_in(process, state, who.roles)})
    now = portal.now()
    items: list[dict[str, Any]] = []
    with reading(portal.app.db()) as tx:
        people = notify.directory(tx)

        def hidden(case: cases.CaseRecord) -> bool:
            return not access.may_see(tx, who, case)

        urgent = cases.most_urgent(tx, states, limit=INBOX_SIZE, skip=hidden)
        # Every case's snapshot and pending timers at once: a fixed number of statements
        # however many cases the inbox shows.
        snapshots = cases.snapshots(tx, [case for case, _ in urgent])
        pending = timers.pending_of(tx, list(snapshots))
        # A deadline the daemon has chased is still overdue (its next reminder is pending,
        # the deadline is not met): the same test as the list of cases.
        passed = cases.overdue_among(tx, list(snapshots), now=now, levels=DEADLINE_LEVELS)
        for case, due in urgent:
            process = processes.of(case)
            snapshot = snapshots[case.id]
            mine = [v for v in judge_all(process, snapshot, actor=actor, now=now)
                    if v.role.ok and not v.guard_reasons]
            # The deadlines whose reminders and escalations go to this person.
            named = []
            for timer in sorted(pending[case.id], key=lambda t: t.due_at):
                spec = process.definition.timer(timer.ladder)
                level = spec.level(timer.level) if spec else None
                if level is None or timer.state != case.state:
                    continue
                told = notify.resolve(people, level.notify, snapshot, {},
                                      action_number=int(timer.key) if timer.key else None)
                if any(r.email == who.user.email for r in told):
                    named.append({"label": label(process.definition, timer),
                                  "due": timer.due_at.isoformat(),
                                  "overdue": timer.due_at <= now})
            if mine or named:
                items.append({"ref": case.ref, "pseudonym": case.pseudonym,
                              "state_label": process.definition.state_label(case.state),
                              "due": due.isoformat() if due else None,
                              "overdue": case.id in passed or (due is not None and due <= now),
                              "triggers": mine,
                              "deadlines": named[:3]})
    return items


def _acts_in(process: Any, state: str, roles: frozenset[str]) -> bool:
    for name in process.machine.triggers_from(state):
        spec = process.definition.trigger(name)
        if spec is not None and not spec.system_only and \
                any(r.role in roles for r in spec.roles):
            return True
    return False
