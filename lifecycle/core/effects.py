"""What each trigger records, beyond the state change: one small function per trigger.

Effects change the case record in memory (the engine saves it once) and write other rows
with prepared statements (storage.direct) in the session they are given; the engine commits
them together with the case, its history, its timers and its outbox, or not at all. What
an effect needs to know of the case before it reads from `view`, never from the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, bindparam, func, update

from states.case import ActionFacts, Actor, AgencyAsk, CaseView, MeetingFacts
from states.config import ProcessConfig
from states.criteria import assess
from states.enums import ActionStatus, Flag, Kind, Proceedings
from storage import tables
from storage.caserow import CaseRow
from storage.direct import Prepared, inserting

if TYPE_CHECKING:
    from sqlmodel import Session

_A, _M, _O = tables.AGENCY_REQUESTS, tables.MEETINGS, tables.OUTPUTS
_X, _P, _R = tables.ACTIONS, tables.PROCEEDINGS, tables.REFERRALS
_CASE_ID: Any = bindparam("case_id")


def _setting(table: Any, *columns: str, where: Any) -> Prepared:
    """UPDATE `table` SET each of `columns` (bound under its own name) WHERE `where`."""
    return Prepared(update(table).where(where).values(
        {table.c[name]: bindparam(f"set_{name}") for name in columns}))


_ASK = inserting(_A)
_RETURNED = _setting(_A, "returned_at", "view", "summary", "returned_by", where=(
    (_A.c.case_id == _CASE_ID) & (_A.c.round == bindparam("round"))
    & (_A.c.agency == bindparam("agency"))))
_MEETING = inserting(_M, returning=_M.c.id)
_ATTENDED = inserting(tables.MEETING_ATTENDANCE)
_PROCEEDINGS = _setting(_P, "criminal", "care", "expected_conclusion", "recorded_at",
                        where=_P.c.case_id == _CASE_ID)
_OUTPUT = inserting(_O)
_OUTPUT_AGAIN = _setting(_O, "location", "recorded_at", where=(
    (_O.c.case_id == _CASE_ID) & (_O.c.output == bindparam("output"))))
_ACTION = inserting(_X)
_ACTION_DONE = _setting(_X, "status", "evidence", "completed_at", where=(
    (_X.c.case_id == _CASE_ID) & (_X.c.number == bindparam("number"))))
_ACTION_SIGNED = _setting(_X, "status", "signed_off_at", "signed_off_by", where=(
    (_X.c.case_id == _CASE_ID) & (_X.c.number == bindparam("number"))))
# An amendment changes only what it names: a column given no value keeps its own.
_AMENDABLE = ("incident_date", "harm", "abuse", "agency_concern", "grounds", "route",
              "referrer_agency", "criminal_proceedings", "summary")
# (A JSON value of None would be bound as the JSON text 'null', which is not NULL.)
_AMEND = Prepared(update(_R).where(_R.c.case_id == _CASE_ID).values(
    {_R.c[name]: func.coalesce(bindparam(f"set_{name}", type_=JSON(none_as_null=True) if
                                         isinstance(_R.c[name].type, JSON) else
                                         _R.c[name].type), _R.c[name])
     for name in _AMENDABLE}))
_CRIMINAL = _setting(_P, "criminal", where=_P.c.case_id == _CASE_ID)


@dataclass(frozen=True)
class EffectContext:
    trigger: str
    session: Session
    case: CaseRow
    view: CaseView  # the case before the trigger
    params: dict[str, Any]
    reason: str | None
    actor: Actor
    now: datetime
    config: ProcessConfig
    # What an effect learnt that later steps need (e.g. the new action's number).
    outcome: dict[str, Any] = field(default_factory=dict)
    # What it changed outside the case's row, as new values of CaseView's fields: the
    # engine's view of the case after the trigger (snapshot.after) is `view` with these.
    changes: dict[str, Any] = field(default_factory=dict)


Effect = Callable[[EffectContext], None]
EFFECTS: dict[str, Effect] = {}


def effect(*names: str) -> Callable[[Effect], Effect]:
    def register(fn: Effect) -> Effect:
        for name in names:
            EFFECTS[name] = fn
        return fn

    return register


def apply(trigger: str, ctx: EffectContext) -> None:
    """Record what `trigger` means for the case; triggers with nothing to record pass."""
    fn = EFFECTS.get(trigger)
    if fn is not None:
        fn(ctx)


def _set_flag(case: CaseRow, flag: str, on: bool) -> None:
    flags = [f for f in case.flags if f != flag] + ([flag] if on else [])
    case.flags = sorted(flags)  # a new list, so the JSON column is saved


def _ask(ctx: EffectContext, agencies: list[str]) -> None:
    due = ctx.config.calendar.shift(ctx.now, ctx.config.offset("returns.due"))
    _ASK.run_many(ctx.session, [
        {"case_id": ctx.case.id, "round": ctx.case.round, "agency": agency,
         "requested_at": ctx.now, "due_at": due, "returned_at": None, "view": None,
         "summary": None, "returned_by": None}
        for agency in agencies])
    ctx.changes["agencies"] = ctx.view.agencies + tuple(
        AgencyAsk(agency, ctx.case.round, ctx.now, due) for agency in agencies)
    current = ctx.case.returns_due_at
    ctx.case.returns_due_at = due if current is None or due > current else current


@effect("request_information")
def _request_information(ctx: EffectContext) -> None:
    _ask(ctx, ctx.params["agencies"])
    _set_flag(ctx.case, Flag.URGENT, bool(ctx.params.get("urgent")))


@effect("request_more_information")
def _request_more_information(ctx: EffectContext) -> None:
    ctx.case.round += 1
    ctx.case.returns_due_at = None
    _set_flag(ctx.case, Flag.INCOMPLETE_RETURNS, False)
    _ask(ctx, ctx.params["agencies"])


@effect("add_agency")
def _add_agency(ctx: EffectContext) -> None:
    _ask(ctx, [ctx.params["agency"]])


@effect("record_return")
def _record_return(ctx: EffectContext) -> None:
    _RETURNED.run(ctx.session, {
        "case_id": ctx.case.id, "round": ctx.case.round, "agency": ctx.params["agency"],
        "set_returned_at": ctx.now, "set_view": ctx.params["view"],
        "set_summary": ctx.params["summary"], "set_returned_by": ctx.actor.name})
    ctx.changes["agencies"] = tuple(
        replace(a, returned_at=ctx.now, view=ctx.params["view"])
        if a.round == ctx.case.round and a.agency == ctx.params["agency"] else a
        for a in ctx.view.agencies)


@effect("submit_to_sub_group")
def _submit(ctx: EffectContext) -> None:
    _set_flag(ctx.case, Flag.INCOMPLETE_RETURNS, bool(ctx.view.outstanding()))
    ctx.case.meeting_date = ctx.params.get("meeting_date")
    if ctx.params.get("urgent") is not None:
        _set_flag(ctx.case, Flag.URGENT, bool(ctx.params["urgent"]))


@effect("record_meeting")
def _record_meeting(ctx: EffectContext) -> None:
    row = _MEETING.one(ctx.session, {
        "case_id": ctx.case.id, "held_on": ctx.params["date"], "recorded_at": ctx.now,
        "recorded_by": ctx.actor.name})
    assert row is not None
    _ATTENDED.run_many(ctx.session, [{"meeting_id": row[0], "agency": agency}
                                     for agency in ctx.params["attendees"]])
    ctx.changes["meetings"] = (*ctx.view.meetings, MeetingFacts(
        ctx.params["date"], frozenset(ctx.params["attendees"]), ctx.now))
    ctx.case.meeting_date = ctx.params["date"]


@effect("refer_back")
def _refer_back(ctx: EffectContext) -> None:
    ctx.case.meeting_date = None  # a new meeting is needed


@effect("recommend")
def _recommend(ctx: EffectContext) -> None:
    ctx.case.recommendation = ctx.params["recommendation"]


@effect("commission_scr", "commission_case_review")
def _commission(ctx: EffectContext) -> None:
    scr = ctx.trigger == "commission_scr"
    ctx.case.kind = Kind.SCR if scr else Kind.CASE_REVIEW
    ctx.case.methodology = ctx.params["methodology"]
    ctx.case.lead_reviewer = ctx.params["lead_reviewer"]
    ctx.case.commissioned_at = ctx.now
    ctx.case.decided_at = ctx.now
    _set_flag(ctx.case, Flag.SCR_BELOW_CRITERIA, scr and not assess(ctx.view.referral).met)


@effect("decide_no_review")
def _no_review(ctx: EffectContext) -> None:
    ctx.case.decided_at = ctx.now
    ctx.case.closed_at = ctx.now


@effect("withdraw", "sign_off_actions")
def _close(ctx: EffectContext) -> None:
    ctx.case.closed_at = ctx.now


@effect("complete_review")
def _complete_review(ctx: EffectContext) -> None:
    ctx.case.report_title = ctx.params["report"]
    ctx.case.completed_at = ctx.now


@effect("record_proceedings")
def _record_proceedings(ctx: EffectContext) -> None:
    before = {"criminal": ctx.view.criminal, "care": ctx.view.care,
              "expected_conclusion": ctx.view.expected_conclusion}
    values = {f"set_{name}": ctx.params[name] if ctx.params.get(name) is not None else old
              for name, old in before.items()}
    _PROCEEDINGS.run(ctx.session, {"case_id": ctx.case.id, "set_recorded_at": ctx.now,
                                   **values})
    ctx.changes.update({name: values[f"set_{name}"] for name in before})


@effect("record_output")
def _record_output(ctx: EffectContext) -> None:
    values = {"case_id": ctx.case.id, "output": ctx.params["output"]}
    if ctx.params["output"] in ctx.view.outputs:
        _OUTPUT_AGAIN.run(ctx.session, {**values, "set_location": ctx.params["location"],
                                        "set_recorded_at": ctx.now})
    else:
        _OUTPUT.run(ctx.session, {**values, "location": ctx.params["location"],
                                  "recorded_at": ctx.now})
        ctx.changes["outputs"] = ctx.view.outputs | {ctx.params["output"]}


@effect("send_prepublication_notice")
def _notice(ctx: EffectContext) -> None:
    ctx.case.notice_sent_at = ctx.now


@effect("schedule_publication")
def _schedule(ctx: EffectContext) -> None:
    ctx.case.scheduled_publication = ctx.params["date"]


@effect("publish")
def _publish(ctx: EffectContext) -> None:
    ctx.case.published_at = ctx.now


@effect("add_action")
def _add_action(ctx: EffectContext) -> None:
    number = max((a.number for a in ctx.view.actions), default=0) + 1
    _ACTION.run(ctx.session, {
        "case_id": ctx.case.id, "number": number, "agency": ctx.params["agency"],
        "description": ctx.params["description"], "owner": ctx.params["owner"],
        "due": ctx.params["due"], "status": ActionStatus.OPEN.value, "evidence": None,
        "created_at": ctx.now, "completed_at": None, "signed_off_at": None,
        "signed_off_by": None})
    ctx.changes["actions"] = (*ctx.view.actions, ActionFacts(
        number, ctx.params["agency"], ctx.params["owner"], ctx.params["due"]))
    ctx.outcome["action"] = number


@effect("complete_action")
def _complete_action(ctx: EffectContext) -> None:
    _ACTION_DONE.run(ctx.session, {
        "case_id": ctx.case.id, "number": ctx.params["action"],
        "set_status": ActionStatus.COMPLETED.value, "set_evidence": ctx.params["evidence"],
        "set_completed_at": ctx.now})
    _action_status(ctx, ActionStatus.COMPLETED)


@effect("sign_off_action")
def _sign_off_action(ctx: EffectContext) -> None:
    _ACTION_SIGNED.run(ctx.session, {
        "case_id": ctx.case.id, "number": ctx.params["action"],
        "set_status": ActionStatus.SIGNED_OFF.value, "set_signed_off_at": ctx.now,
        "set_signed_off_by": ctx.actor.name})
    _action_status(ctx, ActionStatus.SIGNED_OFF)


def _action_status(ctx: EffectContext, status: ActionStatus) -> None:
    ctx.changes["actions"] = tuple(
        replace(a, status=status.value) if a.number == ctx.params["action"] else a
        for a in ctx.view.actions)


@effect("record_panel_notice")
def _panel(ctx: EffectContext) -> None:
    ctx.case.panel_notified_on = ctx.params["date"]


@effect("amend_referral")
def _amend(ctx: EffectContext) -> None:
    _AMEND.run(ctx.session, {"case_id": ctx.case.id, **{
        f"set_{name}": ctx.params.get(name) for name in _AMENDABLE}})
    given = {name: ctx.params[name] for name in _AMENDABLE
             if name != "summary" and ctx.params.get(name) is not None}
    if "grounds" in given:
        given["grounds"] = tuple(given["grounds"])
    ctx.changes["referral"] = replace(ctx.view.referral, **given)
    if ctx.params.get("criminal_proceedings") is not None:
        was = ctx.view.criminal
        criminal = Proceedings.PENDING if ctx.params["criminal_proceedings"] else (
            Proceedings.NONE if was == Proceedings.PENDING else was)
        _CRIMINAL.run(ctx.session, {"case_id": ctx.case.id, "set_criminal": str(criminal)})
        ctx.changes["criminal"] = str(criminal)
