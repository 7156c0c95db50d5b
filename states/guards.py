"""The library of guards: pure functions `(case, ctx) -> reason | None`, by name.

A guard returns None when it holds and, when it does not, the reason a user reads. A
process definition names the guards of each trigger; the one judge (lifecycle/core/judge.py)
evaluates every one of them so that a refusal lists all the reasons at once. Guards have no
side effects: `scr triggers` and `scr why` call them freely.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from scr.states.case import CaseSnapshot, GuardContext
from scr.states.criteria import Assessment, assess
from scr.states.enums import (
    PARTNERS,
    QUORUM_AGENCIES,
    ActionStatus,
    Kind,
    OutputKind,
    Proceedings,
    Role,
)
from scr.states.facts import NOTIFIED_ON, PARTNER_VIEWS, RAPID_REVIEW_SENT_ON

DEFAULT_NOTICE = "pre-publication notice to Ofsted and the Department"
Guard = Callable[[CaseSnapshot, GuardContext], str | None]
GUARDS: dict[str, Guard] = {}
# Guards that read the trigger's input (parameters or --reason). `scr triggers`, which has
# no input, shows these as what the trigger needs rather than as refusals.
INPUT_GUARDS: set[str] = set()


def guard(*, reads_input: bool = False) -> Callable[[Guard], Guard]:
    def register(fn: Guard) -> Guard:
        GUARDS[fn.__name__] = fn
        if reads_input:
            INPUT_GUARDS.add(fn.__name__)
        return fn

    return register


def _criteria(case: CaseSnapshot, ctx: GuardContext) -> Assessment:
    """The case's definition's criteria assessment of its referral."""
    return (ctx.criteria or assess)(case.referred)


def _when(ctx: GuardContext, moment: datetime) -> str:
    return ctx.config.working_days.local(moment).strftime("%a %d %b %Y %H:%M")


@guard(reads_input=True)
def reason_given(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if not (ctx.reason or "").strip():
        return "a reason must be given (--reason)"
    return None


@guard(reads_input=True)
def agencies_named(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if not ctx.params.get("agencies"):
        return "at least one agency must be named"
    return None


@guard(reads_input=True)
def agency_not_already_asked(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    agency = ctx.params.get("agency")
    if any(a.agency == agency for a in case.current_asks()):
        return f"{agency} has already been asked"
    return None


@guard(reads_input=True)
def agency_asked_and_not_returned(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    agency = ctx.params.get("agency")
    ask = next((a for a in case.current_asks() if a.agency == agency), None)
    if ask is None:
        return f"{agency} was not asked for information"
    if ask.returned_at is not None:
        return f"{agency} has already made its return"
    return None


@guard()
def returns_in_or_deadline_passed(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    outstanding = [a.agency for a in case.outstanding()]
    if not outstanding:
        return None
    if case.returns_due_at is not None and ctx.now >= case.returns_due_at:
        return None
    due = f" (deadline {_when(ctx, case.returns_due_at)})" if case.returns_due_at else ""
    return (
        f"returns are outstanding from {', '.join(outstanding)} and the return deadline "
        f"has not passed{due}"
    )


@guard()
def quorate_meeting_recorded(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    meetings = [m for m in case.meetings if m.recorded_at >= case.state_entered_at]
    if any(set(QUORUM_AGENCIES) <= m.attendees for m in meetings):
        return None
    needed = ", ".join(QUORUM_AGENCIES)
    if not meetings:
        meeting = ctx.words.get("meeting", "sub-group meeting")
        return f"no {meeting} has been recorded (one with {needed} present)"
    missing = sorted(set(QUORUM_AGENCIES) - meetings[-1].attendees)
    return f"the meeting recorded lacked {', '.join(missing)} (needs {needed} present)"


@guard(reads_input=True)
def methodology_and_reviewer_given(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    missing = [k for k in ("methodology", "lead_reviewer") if not ctx.params.get(k)]
    if missing:
        return f"{' and '.join(missing)} must be given"
    return None


@guard(reads_input=True)
def rationale_if_criteria_not_met(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if _criteria(case, ctx).met or (ctx.reason or "").strip():
        return None
    return "the SCR criteria are not met: give the rationale for commissioning an SCR (--reason)"


@guard()
def criteria_not_met(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if _criteria(case, ctx).met:
        return "the SCR criteria are met: an SCR must be commissioned"
    return None


@guard(reads_input=True)
def report_given(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if not ctx.params.get("report"):
        return "the title of the final report must be given"
    return None


def notice_ends_on(sent_at: datetime, ctx: GuardContext) -> date:
    """The first day publication may happen after a pre-publication notice sent at
    `sent_at`: the notice period is counted in whole days from the day it was sent (a
    notice sent on Thursday 24 December 2026, at any hour, with 7 working days' notice
    allows publication from Thursday 7 January 2027). `schedule_publication` and `publish`,
    by hand or timed, judge it by this one day, so a date accepted when it is scheduled is
    never refused for the notice period on the day itself."""
    days = ctx.config.working_days
    sent_on = days.start_of(days.local_date(sent_at))
    return days.local_date(ctx.config.shift(sent_on, ctx.config.notice_period))


@guard(reads_input=True)
def publication_date_after_notice(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    end_day = notice_ends_on(case.notice_sent_at or ctx.now, ctx)
    day = ctx.params.get("date")
    if day is not None and day < end_day:
        sent = "sent" if case.notice_sent_at else "if sent now"
        return (
            f"the publication date must not be before the end of the notice period "
            f"({end_day.isoformat()}, notice {sent})"
        )
    return None


@guard()
def no_criminal_proceedings_pending(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if case.criminal == Proceedings.PENDING:
        until = (
            f" (expected to conclude {case.expected_conclusion.isoformat()})"
            if case.expected_conclusion
            else ""
        )
        return f"criminal proceedings are pending{until}"
    return None


@guard()
def notice_period_elapsed(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if case.notice_sent_at is None:
        return f"the {ctx.words.get('notice', DEFAULT_NOTICE)} has not been sent"
    end_day = notice_ends_on(case.notice_sent_at, ctx)
    if ctx.config.working_days.local_date(ctx.now) < end_day:
        return (f"the notice period runs until {end_day.strftime('%a %d %b %Y')} "
                "(publication is allowed from that day)")
    return None


@guard()
def no_proceedings_holding_publication(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    """Publication waits for pending criminal proceedings and a pending inquest (not for
    care proceedings)."""
    found = []
    if case.criminal == Proceedings.PENDING:
        found.append("criminal proceedings are pending")
    if case.inquest == Proceedings.PENDING:
        found.append("an inquest is pending")
    if not found:
        return None
    until = (f" (expected to conclude {case.expected_conclusion.isoformat()})"
             if case.expected_conclusion else "")
    return " and ".join(found) + until


@guard()
def not_yet_notified(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    notified = NOTIFIED_ON.of(case)
    if notified is not None:
        return f"the serious incident notification was recorded already ({notified})"
    return None


def required_outputs(kind: str | None) -> tuple[str, ...]:
    if kind == Kind.SCR:
        return (OutputKind.OVERVIEW_REPORT, OutputKind.BOARD_RESPONSE)
    if kind == Kind.CSPR:
        return (OutputKind.OVERVIEW_REPORT,)
    return (OutputKind.BRIEFING,)


@guard()
def outputs_recorded(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    missing = [o for o in required_outputs(case.kind) if o not in case.outputs]
    if missing:
        return f"outputs not yet recorded: {', '.join(missing)}"
    return None


@guard(reads_input=True)
def action_fields_given(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    missing = [k for k in ("agency", "description", "owner", "due") if not ctx.params.get(k)]
    if missing:
        return f"{', '.join(missing)} must be given"
    return None


@guard(reads_input=True)
def action_open(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    action = case.action(ctx.params.get("action", 0))
    if action is not None and action.status != ActionStatus.OPEN:
        return f"action {action.number} is not open (it is {action.status.replace('_', ' ')})"
    return None


@guard(reads_input=True)
def evidence_given(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if not ctx.params.get("evidence"):
        return "evidence of completion must be given"
    return None


@guard(reads_input=True)
def action_completed(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    action = case.action(ctx.params.get("action", 0))
    if action is not None and action.status != ActionStatus.COMPLETED:
        return f"action {action.number} is {action.status.replace('_', ' ')}, not completed"
    return None


@guard(reads_input=True)
def actions_named_exist(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    """An audit or training names only actions the case has."""
    unknown = [str(n) for n in ctx.params.get("actions") or () if case.action(n) is None]
    if unknown:
        return f"{case.ref} has no action {', '.join(unknown)}"
    return None


@guard(reads_input=True)
def review_amendment_given(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if not any(v not in (None, "", []) for v in ctx.params.values()):
        return "at least one of the review's details must be given"
    return None


@guard(reads_input=True)
def training_dates_in_order(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    starts, ends = ctx.params.get("starts_on"), ctx.params.get("ends_on")
    if starts and ends and ends < starts:
        return f"the training ends ({ends.isoformat()}) before it starts " \
            f"({starts.isoformat()})"
    return None


@guard()
def all_actions_signed_off(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if not case.actions:
        return "no actions have been recorded"
    waiting = [str(a.number) for a in case.actions if a.status != ActionStatus.SIGNED_OFF]
    if waiting:
        return f"actions not yet signed off: {', '.join(waiting)}"
    return None


@guard(reads_input=True)
def amendment_given(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if not any(v is not None for v in ctx.params.values()):
        return "at least one referral field must be given"
    return None


# --------------------------------------------------------- safeguarding partners (CSPR)
def _partners_agree(decision: str, case: CaseSnapshot, ctx: GuardContext) -> str | None:
    """All three partners hold `decision`: each recorded it (record_partner_view) since the
    case reached the decision, the partner firing the decision counting as agreeing."""
    agreed = {partner for partner, view in PARTNER_VIEWS.of(case).items()
              if view["decision"] == decision and view["at"] >= case.state_entered_at}
    if Role.SAFEGUARDING_PARTNER in ctx.actor.roles and ctx.actor.agency in PARTNERS:
        agreed.add(ctx.actor.agency)
    missing = [p for p in PARTNERS if p not in agreed]
    if not missing:
        return None
    return (f"the safeguarding partners decide together: no view of {decision} is recorded "
            f"from {', '.join(missing)} (record_partner_view)")


@guard()
def partners_agree_local_review(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    return _partners_agree("local_review", case, ctx)


@guard()
def partners_agree_no_review(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    return _partners_agree("no_review", case, ctx)


@guard()
def lead_partner_decides(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    """Where the board names a lead partner (`[process] lead_partner`), only that partner
    fires the decision, the others' agreement recorded."""
    lead = getattr(ctx.config, "lead_partner", None)
    if lead is None or ctx.actor.agency == lead:
        return None
    return f"the lead partner ({lead}) makes the decision, with the others' agreement recorded"


@guard()
def rapid_review_not_sent(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    sent = RAPID_REVIEW_SENT_ON.of(case)
    if sent is not None:
        return f"the rapid review was sent to the Panel already ({sent})"
    return None


@guard()
def rapid_review_sent(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if RAPID_REVIEW_SENT_ON.of(case) is None:
        return "the rapid review has not been sent to the Panel (send_rapid_review)"
    return None
