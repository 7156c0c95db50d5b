"""What each trigger records, beyond the state change: one small function per trigger.

Effects only write rows in the session they are given; the engine commits them together
with the case, its history, its timers and its outbox, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from states.case import Actor, CaseView
from states.config import ProcessConfig
from states.criteria import assess
from states.enums import ActionStatus, Flag, Kind, Proceedings
from storage import queries
from storage.models import Action, AgencyRequest, Case, Meeting, MeetingAttendance, Output


@dataclass(frozen=True)
class EffectContext:
    trigger: str
    session: Session
    case: Case
    view: CaseView  # the case before the trigger
    params: dict[str, Any]
    reason: str | None
    actor: Actor
    now: datetime
    config: ProcessConfig
    # What an effect learnt that later steps need (e.g. the new action's number).
    outcome: dict[str, Any] = field(default_factory=dict)


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


def _set_flag(case: Case, flag: str, on: bool) -> None:
    flags = [f for f in case.flags if f != flag] + ([flag] if on else [])
    case.flags = sorted(flags)  # a new list, so the JSON column is saved


def _ask(ctx: EffectContext, agencies: list[str]) -> None:
    due = ctx.config.calendar.shift(ctx.now, ctx.config.offset("returns.due"))
    for agency in agencies:
        ctx.session.add(AgencyRequest(
            case_id=_id(ctx), round=ctx.case.round, agency=agency, requested_at=ctx.now,
            due_at=due,
        ))
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
    for ask in queries.agency_requests(ctx.session, _id(ctx)):
        if ask.round == ctx.case.round and ask.agency == ctx.params["agency"]:
            ask.returned_at = ctx.now
            ask.view = ctx.params["view"]
            ask.summary = ctx.params["summary"]
            ask.returned_by = ctx.actor.name


@effect("submit_to_sub_group")
def _submit(ctx: EffectContext) -> None:
    _set_flag(ctx.case, Flag.INCOMPLETE_RETURNS, bool(ctx.view.outstanding()))
    ctx.case.meeting_date = ctx.params.get("meeting_date")
    if ctx.params.get("urgent") is not None:
        _set_flag(ctx.case, Flag.URGENT, bool(ctx.params["urgent"]))


@effect("record_meeting")
def _record_meeting(ctx: EffectContext) -> None:
    meeting_id = ctx.session.execute(
        insert(Meeting).returning(Meeting.__table__.c.id),  # type: ignore[attr-defined]
        {"case_id": _id(ctx), "held_on": ctx.params["date"], "recorded_at": ctx.now,
         "recorded_by": ctx.actor.name}).scalar_one()
    if ctx.params["attendees"]:
        ctx.session.execute(insert(MeetingAttendance), [
            {"meeting_id": meeting_id, "agency": agency} for agency in ctx.params["attendees"]])
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
    status = queries.proceedings(ctx.session, _id(ctx))
    for name in ("criminal", "care", "expected_conclusion"):
        if ctx.params.get(name) is not None:
            setattr(status, name, ctx.params[name])
    status.recorded_at = ctx.now


@effect("record_output")
def _record_output(ctx: EffectContext) -> None:
    for existing in queries.outputs(ctx.session, _id(ctx)):
        if existing.output == ctx.params["output"]:
            existing.location = ctx.params["location"]
            existing.recorded_at = ctx.now
            return
    ctx.session.add(Output(case_id=_id(ctx), output=ctx.params["output"],
                           location=ctx.params["location"], recorded_at=ctx.now))


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
    ctx.session.add(Action(
        case_id=_id(ctx), number=number, agency=ctx.params["agency"],
        description=ctx.params["description"], owner=ctx.params["owner"], due=ctx.params["due"],
        created_at=ctx.now,
    ))
    ctx.outcome["action"] = number


@effect("complete_action")
def _complete_action(ctx: EffectContext) -> None:
    action = _action(ctx)
    action.status = ActionStatus.COMPLETED
    action.evidence = ctx.params["evidence"]
    action.completed_at = ctx.now


@effect("sign_off_action")
def _sign_off_action(ctx: EffectContext) -> None:
    action = _action(ctx)
    action.status = ActionStatus.SIGNED_OFF
    action.signed_off_at = ctx.now
    action.signed_off_by = ctx.actor.name


@effect("record_panel_notice")
def _panel(ctx: EffectContext) -> None:
    ctx.case.panel_notified_on = ctx.params["date"]


@effect("amend_referral")
def _amend(ctx: EffectContext) -> None:
    referral = queries.referral(ctx.session, _id(ctx))
    for name, value in ctx.params.items():
        if value is not None:
            setattr(referral, name, value)
    if ctx.params.get("criminal_proceedings") is not None:
        status = queries.proceedings(ctx.session, _id(ctx))
        status.criminal = Proceedings.PENDING if ctx.params["criminal_proceedings"] else (
            Proceedings.NONE if status.criminal == Proceedings.PENDING else status.criminal)


def _action(ctx: EffectContext) -> Action:
    for action in queries.actions(ctx.session, _id(ctx)):
        if action.number == ctx.params["action"]:
            return action
    raise AssertionError("the engine checks the action exists before effects run")


def _id(ctx: EffectContext) -> int:
    assert ctx.case.id is not None
    return ctx.case.id
