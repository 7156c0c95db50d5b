"""Calendar invitations for deadlines and planned meetings.

Each calendar change goes out as its own `calendar_update` message carrying one .ics: a
REQUEST when a deadline is armed or moved (same UID, higher SEQUENCE, so it replaces the
earlier entry), a CANCEL when it is disarmed without a replacement. The UID is stable per
case and timer ladder (and action), or per case and meeting round.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lifecycle.core import notify
from lifecycle.core.arming import TimerChanges, label
from lifecycle.settings import Board
from states.case import CaseSnapshot
from states.process import ProcessDefinition
from storage.cases import CaseRecord
from storage.timers import TimerRecord

MEETING_SELECTORS = ("subgroup_chair", "subgroup_members")


@dataclass(frozen=True)
class Change:
    uid: str
    sequence: int
    method: str
    what: str
    start: datetime
    all_day: bool
    selectors: tuple[str, ...]
    action_number: int | None = None


def changes_for(definition: ProcessDefinition, case: CaseRecord, view: CaseSnapshot,
                timers: TimerChanges, *, domain: str, meeting: date | None,
                cal_start: object) -> list[Change]:
    """The calendar changes a transition makes: deadlines armed, moved, withdrawn; a
    meeting planned."""
    found: list[Change] = []
    rearmed = {(t.ladder, t.key) for t in timers.armed if _is_deadline(definition, t)}
    # A deadline disarmed and armed again at the same moment has not changed (a clock that
    # runs across states is armed again in each): nobody is sent it again.
    was = {(t.ladder, t.key): t.due_at for t in timers.disarmed if _is_deadline(definition, t)}
    for timer in timers.armed:
        if _is_deadline(definition, timer) and was.get((timer.ladder, timer.key)) != \
                timer.due_at:
            found.append(_change(definition, case, view, timer, "REQUEST", timer.sequence,
                                 domain, cal_start))
    for timer in timers.disarmed:
        if _is_deadline(definition, timer) and (timer.ladder, timer.key) not in rearmed:
            found.append(_change(definition, case, view, timer, "CANCEL", timer.sequence + 1,
                                 domain, cal_start))
    if meeting is not None:
        start = cal_start(meeting)  # type: ignore[operator]
        found.append(Change(f"{case.ref}-meeting-{case.round}@{domain}", 0, "REQUEST",
                            "Case review sub-group meeting", start, True, MEETING_SELECTORS))
    return found


def _is_deadline(definition: ProcessDefinition, timer: TimerRecord) -> bool:
    spec = definition.timer(timer.ladder)
    return spec is not None and spec.invite == timer.level


def _change(definition: ProcessDefinition, case: CaseRecord, view: CaseSnapshot,
            timer: TimerRecord, method: str, sequence: int, domain: str,
            cal_start: object) -> Change:
    spec = definition.timer(timer.ladder)
    assert spec is not None
    level = next(lv for lv in spec.levels if lv.name == timer.level)
    key = f"-{timer.key}" if timer.key else ""
    start, all_day = timer.due_at, False
    day = _day_of(timer, view)
    if day is not None:
        start, all_day = cal_start(day), True  # type: ignore[operator]
    return Change(f"{case.ref}-{timer.ladder}{key}@{domain}", sequence, method,
                  label(definition, timer),
                  start, all_day, level.notify or ("business_manager",),
                  int(timer.key) if timer.key else None)


def _day_of(timer: TimerRecord, view: CaseSnapshot) -> date | None:
    """Publication and action deadlines are days, not moments."""
    if timer.ladder == "publication":
        return view.scheduled_publication
    if timer.ladder == "action" and timer.key:
        action = view.action(int(timer.key))
        return action.due if action else None
    return None


def queue(definition: ProcessDefinition, case: CaseRecord, view: CaseSnapshot,
          changes: list[Change], *, people: notify.Directory, board: Board,
          timezone: str, now: datetime, history_seq: int, actor: str) -> list[dict[str, Any]]:
    """One calendar_update message per change and recipient, each carrying its entry."""
    from handlers.ics import entry_json

    rows: list[dict[str, Any]] = []
    for change in changes:
        recipients = notify.resolve(people, change.selectors, view, {},
                                    action_number=change.action_number)
        withdrawn = change.method == "CANCEL"
        event = notify.Event(
            template="calendar_update",
            label=("Date withdrawn: " if withdrawn else "Date for your calendar: ") + change.what,
            source=case.state, actor=actor, reason=None,
            details=(("Calendar entry", change.what),
                     ("Change", "withdrawn" if withdrawn else "added or moved")),
        )

        def entry(person: notify.Recipient, change: Change = change) -> dict[str, Any]:
            return entry_json(
                uid=change.uid, sequence=change.sequence, method=change.method,
                summary=f"{case.ref} {case.pseudonym}: {change.what}",
                description=f"Case {case.ref} ({case.pseudonym}). See the case record.",
                start=change.start, all_day=change.all_day, timezone=timezone,
                organizer=board.address, attendee=person.email)

        deadline = notify.Deadline(change.what, change.start) if not withdrawn else None
        rows += notify.queue(case, event, recipients, board=board, timezone=timezone,
                             state_label=definition.state_label(case.state),
                             now=now, deadline=deadline, history_seq=history_seq,
                             calendar=entry)
    return rows
