"""Timers, reminders and escalation ladders of SPEC §4, as data, and the pure planning of
their due moments.

A ladder has levels (reminder → escalation → chair). Each level is its own timer row so the
board sees every coming deadline; after an outage the sweep fires only the highest level
that fell due. Leaving the ladder's state disarms it; `arm_on` triggers re-arm it (its pending
levels are replaced). A ladder with `fires` is a timed transition: at its due moment the
daemon fires that trigger as the system actor; when the trigger is refused, its `refused`
level (if it has one) is announced instead, with the reasons, so the board learns why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from states.calendar import Offset
from states.case import ActionFacts, CaseView
from states.enums import Proceedings, State

S = State
ENTER = "enter"


@dataclass(frozen=True)
class Level:
    name: str
    anchor: str  # see ANCHORS
    notify: tuple[str, ...] = ()
    recurring: bool = False  # fires again every `<ladder>.<level>.every` after its due moment


@dataclass(frozen=True)
class TimerSpec:
    ladder: str
    label: str
    state: State
    arm_on: tuple[str, ...]
    levels: tuple[Level, ...]
    fires: str | None = None
    disarm_on: tuple[str, ...] = ()
    enter_via: tuple[str, ...] = ()  # armed on entry only when entered by these triggers
    when: str | None = None  # a condition in CONDITIONS; unarmed while it is false
    per_action: bool = False
    # The level whose due moment is the deadline sent as a calendar invitation, if any.
    calendar: str | None = None
    # For `fires` ladders: the escalation announced when the fired trigger is refused. It is
    # not planned as a timer row of its own.
    refused: Level | None = None

    def level(self, name: str) -> Level | None:
        """The level called `name`, the refusal level included; None if there is none."""
        found = next((lv for lv in self.levels if lv.name == name), None)
        if found is None and self.refused is not None and self.refused.name == name:
            return self.refused
        return found


TIMERS: tuple[TimerSpec, ...] = (
    TimerSpec(
        "triage", "Triage of the referral", S.REFERRAL, (ENTER,),
        (Level("reminder", "entered", ("business_manager",)),
         Level("escalation", "entered", ("chair",))),
    ),
    TimerSpec(
        "returns", "Agency returns due", S.INFORMATION_REQUEST,
        (ENTER, "add_agency", "record_return"),
        (Level("reminder", "returns_due", ("agency_leads:outstanding",)),
         Level("overdue", "returns_due", ("agency_leads:outstanding", "business_manager"))),
        when="returns_outstanding", calendar="overdue",
    ),
    TimerSpec(
        "returns_auto_submit", "Automatic submission to the sub-group", S.INFORMATION_REQUEST,
        (ENTER, "add_agency"), (Level("transition", "returns_due"),),
        fires="submit_to_sub_group",
    ),
    TimerSpec(
        "recommendation", "Sub-group recommendation due", S.SUB_GROUP, (ENTER, "record_meeting"),
        (Level("escalation", "meeting", ("subgroup_chair",)),
         Level("chair", "previous", ("chair",))),
        calendar="escalation",
    ),
    TimerSpec(
        "decision", "Chair's decision due", S.CHAIR_DECISION, (ENTER,),
        (Level("reminder", "entered", ("chair",)),
         Level("due", "referred", ("chair", "business_manager"))),
        calendar="due",
    ),
    TimerSpec(
        "panel", "National panel to be told of the decision", S.CLOSED, (ENTER,),
        (Level("reminder", "decided", ("business_manager",)),
         Level("due", "decided", ("business_manager",))),
        disarm_on=("record_panel_notice",), enter_via=("decide_no_review",), calendar="due",
    ),
    TimerSpec(
        "completion", "Review completion due", S.REVIEW, (ENTER,),
        (Level("reminder", "commissioned", ("lead_reviewer", "business_manager")),
         Level("due", "commissioned", ("chair", "lead_reviewer", "business_manager")),
         Level("overdue", "commissioned", ("chair", "business_manager"), recurring=True)),
        calendar="due",
    ),
    TimerSpec(
        "proceedings_check", "Proceedings status check", S.PUBLICATION_HOLD,
        (ENTER, "record_proceedings"),
        (Level("check", "armed", ("business_manager",), recurring=True),),
        when="proceedings_pending",
    ),
    TimerSpec(
        "long_hold", "Twelve months on publication hold", S.PUBLICATION_HOLD, (ENTER,),
        (Level("escalation", "entered", ("chair",)),),
    ),
    TimerSpec(
        "publication", "Scheduled publication", S.PUBLICATION_HOLD, ("schedule_publication",),
        (Level("transition", "publication_date"),), fires="publish", calendar="transition",
        refused=Level("blocked", "publication_date", ("chair",)),
    ),
    TimerSpec(
        "action", "Action due", S.PUBLISHED, ("add_action",),
        (Level("reminder", "action_due", ("action_owner",)),
         Level("overdue", "action_due", ("subgroup_chair", "action_owner"))),
        disarm_on=("complete_action",), per_action=True, calendar="overdue",
    ),
)

TIMER_BY_LADDER = {t.ladder: t for t in TIMERS}

DEFAULT_OFFSETS: Mapping[str, str] = {
    "notice_period": "7wd",
    "returns.due": "10wd",
    "triage.reminder": "3wd",
    "triage.escalation": "5wd",
    "returns.reminder": "-2wd",
    "returns.overdue": "0wd",
    "returns_auto_submit.transition": "5wd",
    "recommendation.escalation": "1wd",
    "recommendation.without_meeting": "20wd",
    "recommendation.chair": "5wd",
    "decision.reminder": "15wd",
    "decision.due": "1m",
    "panel.reminder": "10d",
    "panel.due": "14d",
    "completion.reminder": "5m",
    "completion.due": "6m",
    "completion.overdue": "7m",
    "completion.overdue.every": "1m",
    "proceedings_check.check": "20wd",
    "proceedings_check.check.every": "20wd",
    "long_hold.escalation": "12m",
    "publication.transition": "0d",
    "action.reminder": "-5wd",
    "action.overdue": "1wd",
}

ANCHORS = {
    "entered": "entering the state",
    "armed": "the moment it was armed",
    "referred": "the referral",
    "returns_due": "the returns deadline",
    "meeting": "the sub-group meeting",
    "previous": "the previous level",
    "commissioned": "commissioning",
    "decided": "the decision",
    "publication_date": "the scheduled publication date",
    "action_due": "the action's due date",
}


def _returns_outstanding(case: CaseView) -> bool:
    return bool(case.outstanding())


def _proceedings_pending(case: CaseView) -> bool:
    return Proceedings.PENDING in (case.criminal, case.care)


CONDITIONS: dict[str, Callable[[CaseView], bool]] = {
    "returns_outstanding": _returns_outstanding,
    "proceedings_pending": _proceedings_pending,
}


@dataclass(frozen=True)
class PlannedTimer:
    ladder: str
    level: str
    rank: int  # 1 for the first level of the ladder
    key: str  # the action number for per-action ladders, else ""
    due_at: datetime
    rule: str
    fires: str | None

    @property
    def name(self) -> str:
        return ".".join(p for p in (self.ladder, self.key, self.level) if p)


def plan(
    spec: TimerSpec,
    case: CaseView,
    *,
    armed_at: datetime,
    config: object,
    action: ActionFacts | None = None,
) -> list[PlannedTimer]:
    """The due moments of every level of `spec` for `case`, armed at `armed_at`.

    Returns [] when the ladder's condition is false or an anchor it needs is unknown.
    `config` is a states.config.ProcessConfig.
    """
    if spec.when and not CONDITIONS[spec.when](case):
        return []
    cal = config.calendar  # type: ignore[attr-defined]
    planned: list[PlannedTimer] = []
    previous: datetime | None = None
    for rank, level in enumerate(spec.levels, start=1):
        key = f"{spec.ladder}.{level.name}"
        offset = config.offset(key)  # type: ignore[attr-defined]
        found = _anchor(level.anchor, case, armed_at, previous, action, cal, config)
        if found is None:
            return planned
        base, base_label, apply_offset = found
        due = cal.shift(base, offset) if apply_offset else base
        rule = _rule(offset if apply_offset else None, base_label, cal.local(base), cal)
        planned.append(PlannedTimer(
            spec.ladder, level.name, rank, str(action.number) if action else "", due, rule,
            spec.fires,
        ))
        previous = due
    return planned


def next_occurrence(
    ladder: str, level: str, due_at: datetime, now: datetime, config: object
) -> datetime:
    """The first recurrence of a recurring level strictly after `now` (missed ones fold)."""
    every = config.offset(f"{ladder}.{level}.every")  # type: ignore[attr-defined]
    cal = config.calendar  # type: ignore[attr-defined]
    nxt = cal.shift(due_at, every)
    while nxt <= now:
        nxt = cal.shift(nxt, every)
    return nxt


def recurrence_rule(ladder: str, level: str, previous_due: datetime, config: object) -> str:
    """The rule recorded on a recurring level's next occurrence, naming the one before."""
    every = config.offset(f"{ladder}.{level}.every")  # type: ignore[attr-defined]
    cal = config.calendar  # type: ignore[attr-defined]
    return _rule(every, f"the previous {level}", cal.local(previous_due), cal) + \
        " (recurring; missed occurrences fold into one)"


def _anchor(
    name: str,
    case: CaseView,
    armed_at: datetime,
    previous: datetime | None,
    action: ActionFacts | None,
    cal: object,
    config: object,
) -> tuple[datetime, str, bool] | None:
    start_of = cal.start_of  # type: ignore[attr-defined]
    label = ANCHORS[name]
    if name == "entered":
        return case.state_entered_at, label, True
    if name == "armed":
        return armed_at, label, True
    if name == "referred":
        return case.referred_at, label, True
    if name == "returns_due":
        return (case.returns_due_at, label, True) if case.returns_due_at else None
    if name == "previous":
        return (previous, label, True) if previous else None
    if name == "commissioned":
        return (case.commissioned_at, label, True) if case.commissioned_at else None
    if name == "decided":
        return (case.decided_at, label, True) if case.decided_at else None
    if name == "publication_date":
        day = case.scheduled_publication
        return (start_of(day), label, True) if day else None
    if name == "action_due":
        return (start_of(action.due), label, True) if action else None
    if name == "meeting":
        if case.meeting_date:
            return start_of(case.meeting_date), label, True
        fallback = config.offset("recommendation.without_meeting")  # type: ignore[attr-defined]
        moment = cal.shift(case.state_entered_at, fallback)  # type: ignore[attr-defined]
        return moment, f"{fallback.describe()} entering the state (no meeting date)", False
    raise KeyError(name)


def _rule(offset: Offset | None, anchor: str, local_base: datetime, cal: object) -> str:
    when = local_base.strftime("%Y-%m-%d %H:%M %Z")
    if offset is None:
        return f"{anchor} ({when})"
    if offset.n == 0:
        return f"at {anchor} ({when})"
    region = f", {cal.region} bank holidays" if offset.unit == "wd" else ""  # type: ignore[attr-defined]
    return f"{offset.describe()} {anchor} ({when}{region})"
