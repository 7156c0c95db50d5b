"""Planning the due moments of a timer ladder's levels: pure functions of the case's
snapshot, the moment the ladder is armed and the board's working days (states.config).

A level is anchored on a moment of the case (ANCHORS: entering the state, the returns
deadline, the scheduled publication, ...) and offset from it by a configured distance
(`<ladder>.<level>`, e.g. `returns.reminder` = -2 working days). A ladder's condition
(CONDITIONS) keeps it unarmed while it is false.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from scr.states.case import ActionFacts, CaseSnapshot
from scr.states.criteria import notifiable
from scr.states.enums import Proceedings
from scr.states.facts import NOTIFIED_ON, PUBLIC_UNTIL, RAPID_REVIEW_SENT_ON
from scr.states.process import TimerSpec
from scr.states.working_days import Offset

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
    "aware": "the day the authority became aware of the incident",
    "notified": "the serious incident notification (or the day of awareness before it)",
    "rapid_review_sent": "the day the rapid review was sent to the national panel",
    "public_until": "the day the published review may come down (a year on)",
}


def _returns_outstanding(case: CaseSnapshot) -> bool:
    return bool(case.outstanding())


def _proceedings_pending(case: CaseSnapshot) -> bool:
    return Proceedings.PENDING in (case.criminal, case.care, case.inquest)


def _notification_outstanding(case: CaseSnapshot) -> bool:
    return NOTIFIED_ON.of(case) is None and case.referred.aware_on is not None \
        and notifiable(case.referred)


def _notified(case: CaseSnapshot) -> bool:
    return NOTIFIED_ON.of(case) is not None


def _publication_not_deferred(case: CaseSnapshot) -> bool:
    """Publication is deferred while criminal proceedings or an inquest are pending."""
    return Proceedings.PENDING not in (case.criminal, case.inquest)


CONDITIONS: dict[str, Callable[[CaseSnapshot], bool]] = {
    "returns_outstanding": _returns_outstanding,
    "proceedings_pending": _proceedings_pending,
    "notification_outstanding": _notification_outstanding,
    "notified": _notified,
    "publication_not_deferred": _publication_not_deferred,
}


def holds(condition: Callable[..., bool], case: CaseSnapshot, config: object) -> bool:
    """Whether a ladder's condition holds for `case`. A condition is a function of the case,
    or of the case and the board's configuration (a states.config.ProcessConfig), for a
    clock the board opts into (CSPR version 2's NSPCC repository reminder)."""
    if condition.__code__.co_argcount == 2:
        return bool(condition(case, config))
    return bool(condition(case))


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
    conditions: Mapping[str, Callable[[CaseSnapshot], bool]],
    spec: TimerSpec,
    case: CaseSnapshot,
    *,
    armed_at: datetime,
    config: object,
    action: ActionFacts | None = None,
) -> list[PlannedTimer]:
    """The due moments of every level of `spec` for `case`, armed at `armed_at`.

    Returns [] when the ladder's condition (one of `conditions`, the definition's) is false
    or an anchor it needs is unknown. `config` is a states.config.ProcessConfig bound to the
    case's definition.
    """
    if spec.when and not holds(conditions[spec.when], case, config):
        return []
    cal = config.working_days  # type: ignore[attr-defined]
    planned: list[PlannedTimer] = []
    previous: datetime | None = None
    for rank, level in enumerate(spec.levels, start=1):
        key = f"{spec.ladder}.{level.name}"
        offset = config.offset(key)  # type: ignore[attr-defined]
        found = _anchor(level.anchor, case, armed_at, previous, action, cal, config)
        if found is None:
            return planned
        base, base_label, apply_offset = found
        due = config.shift(base, offset) if apply_offset else base  # type: ignore[attr-defined]
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
    shift = config.shift  # type: ignore[attr-defined]
    nxt = shift(due_at, every)
    while nxt <= now:
        nxt = shift(nxt, every)
    return nxt


def recurrence_rule(ladder: str, level: str, previous_due: datetime, config: object) -> str:
    """The rule recorded on a recurring level's next occurrence, naming the one before."""
    every = config.offset(f"{ladder}.{level}.every")  # type: ignore[attr-defined]
    cal = config.working_days  # type: ignore[attr-defined]
    return _rule(every, f"the previous {level}", cal.local(previous_due), cal) + \
        " (recurring; missed occurrences fold into one)"


def _anchor(
    name: str,
    case: CaseSnapshot,
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
    if name == "aware":
        day = case.referred.aware_on
        return (start_of(day), label, True) if day else None
    if name == "notified":
        day = NOTIFIED_ON.of(case) or case.referred.aware_on
        return (start_of(day), label, True) if day else (case.referred_at, ANCHORS["referred"],
                                                         True)
    if name == "rapid_review_sent":
        day = RAPID_REVIEW_SENT_ON.of(case)
        return (start_of(day), label, True) if day else None
    if name == "public_until":
        day = PUBLIC_UNTIL.of(case)
        return (start_of(day), label, True) if day else None
    if name == "action_due":
        return (start_of(action.due), label, True) if action else None
    if name == "meeting":
        if case.meeting_date:
            return start_of(case.meeting_date), label, True
        fallback = config.offset("recommendation.without_meeting")  # type: ignore[attr-defined]
        moment = cal.shift(case.state_entered_at, fallback)  # type: ignore[attr-defined]
        return moment, (f"{fallback.describe()} entering the state, as no meeting date was "
                        "set"), False
    raise KeyError(name)


def _rule(offset: Offset | None, anchor: str, local_base: datetime, cal: object) -> str:
    """The rule in words: "10 working days after the request (Mon 23 Nov 2026 10:15;
    England and Wales bank holidays skipped)", the moment in the board's local time."""
    when = local_base.strftime("%a %d %b %Y %H:%M")
    if offset is None:
        return f"{anchor} ({when})"
    if offset.n == 0:
        return f"at {anchor} ({when})"
    region = (f"; {cal.region_name} bank holidays skipped"  # type: ignore[attr-defined]
              if offset.unit == "wd" else "")
    return f"{offset.describe()} {anchor} ({when}{region})"
