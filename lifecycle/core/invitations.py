"""Calendar invitations for deadlines and planned meetings.

Each calendar change goes out as its own `calendar_update` message carrying one .ics: a
REQUEST when a deadline is armed or moved (same UID, higher SEQUENCE, so it replaces the
earlier entry), a CANCEL when it is disarmed without a replacement. What each person's
calendar holds is compared before and after the transition, person by person: an entry that
stays where it was is sent to nobody again; whoever the transition takes off a deadline's
list (an agency whose return is recorded) gets a CANCEL, whoever it puts on gets a REQUEST.
An agency lead's returns entry is their own agency's due moment. The UID is stable per case
and timer ladder (and action), or per case and meeting round (`uid`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from scr.lifecycle.core import notify
from scr.lifecycle.core.arming import TimerChanges
from scr.lifecycle.settings import Board
from scr.states import words
from scr.states.case import CaseSnapshot
from scr.states.enums import Role
from scr.states.process import ProcessDefinition
from scr.storage.cases import CaseRecord
from scr.storage.timers import TimerRecord

MEETING_SELECTORS = ("subgroup_chair", "subgroup_members")


def uid(case: CaseRecord, name: str) -> str:
    """The UID of the case's calendar entry `name` (a ladder, `action-<n>`, `meeting-<round>`).

    Built only from facts of the case that never change: its reference and the second it was
    referred. Nothing the board configures goes in: `mail_from`, the board's name and the
    reference prefix are typically set or corrected after the first cases are open, and a UID
    that followed them would leave the old entry in every calendar beside the new one, and
    make each later CANCEL match nothing. The referral moment tells two boards' CR-2026-0001
    apart in the calendar of someone who serves both (a police force covers several
    boards). RFC 7986 (section 5.3) advises against host names in UIDs; "@scr" names the
    application, not a host.

    Trade-off: before this rule the UID ended in the domain of `mail_from`
    (`CR-2026-0001-returns@localhost`). Entries already sent that way are not matched by
    the new UIDs: their next change arrives as a second entry, and their withdrawal does
    not remove the first, which the recipient deletes by hand. Reproducing the old UID for
    them would need the domain as it was when each entry was sent, which was never stored;
    the rule changes once so that it never changes again.
    """
    referred = case.referred_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{case.ref}-{referred}-{name}@scr"


@dataclass(frozen=True)
class Change:
    """One calendar entry as it stood before a transition and as the transition leaves it;
    `queue` works out, person by person, who must hear of it."""

    uid: str
    what: str
    selectors: tuple[str, ...]
    was: datetime | None  # the deadline's moment before; None: nobody held the entry
    due: datetime | None  # its moment after; None: withdrawn
    start: datetime  # where calendars show it (the day's start for a day's deadline)
    all_day: bool
    sequence: int
    action_number: int | None = None
    # The agencies' returns: an agency lead's entry is their own agency's due moment, which
    # neither another agency asked later nor the case's later deadline moves.
    per_agency: bool = False


def changes_for(definition: ProcessDefinition, case: CaseRecord, view: CaseSnapshot,
                timers: TimerChanges, *, meeting: date | None,
                cal_start: object) -> list[Change]:
    """The deadlines a transition arms, moves, keeps or withdraws, and a meeting planned.

    A deadline disarmed and armed again at the same moment is kept (a clock that runs
    across states is armed again in each; a ladder is re-armed when a return is recorded):
    only the people it took off the list or put on it hear. The UID does not depend on the
    board's address (`uid`)."""
    was = _deadlines(definition, timers.disarmed)
    now = _deadlines(definition, timers.armed)
    found = [_change(definition, case, view, was.get(key), timer, cal_start)
             for key, timer in now.items()]
    found += [_change(definition, case, view, timer, None, cal_start)
              for key, timer in was.items() if key not in now]
    if meeting is not None:
        start = cal_start(meeting)  # type: ignore[operator]
        found.append(Change(uid(case, f"meeting-{case.round}"), "Case review sub-group meeting",
                            MEETING_SELECTORS, None, start, start, True, 0))
    return found


def _deadlines(definition: ProcessDefinition,
               timers: list[TimerRecord]) -> dict[tuple[str, str], TimerRecord]:
    """The timers whose level is their ladder's calendar deadline, by ladder and key."""
    found = {}
    for timer in timers:
        spec = definition.timer(timer.ladder)
        if spec is not None and spec.invite == timer.level:
            found[(timer.ladder, timer.key)] = timer
    return found


def _change(definition: ProcessDefinition, case: CaseRecord, view: CaseSnapshot,
            held: TimerRecord | None, due: TimerRecord | None, cal_start: object) -> Change:
    timer = due or held
    assert timer is not None
    spec = definition.timer(timer.ladder)
    assert spec is not None
    level = next(lv for lv in spec.levels if lv.name == timer.level)
    start, all_day = timer.due_at, False
    day = _day_of(timer, view) if due is not None else None
    if day is not None:
        start, all_day = cal_start(day), True  # type: ignore[operator]
    name = f"{timer.ladder}-{timer.key}" if timer.key else timer.ladder
    # Named by its ladder (and action), never by the level the invitation is armed on
    # ("overdue", "automatic step"): an entry sent weeks ahead must not call its own date
    # overdue.
    what = words.timer_label(definition, timer.ladder, key=timer.key or None)
    return Change(
        uid(case, name), what, level.notify or ("business_manager",),
        held.due_at if held else None, due.due_at if due else None, start, all_day,
        due.sequence if due else timer.sequence + 1,
        int(timer.key) if timer.key else None,
        per_agency="agency_leads:outstanding" in level.notify)


def _day_of(timer: TimerRecord, view: CaseSnapshot) -> date | None:
    """Publication and action deadlines are days, not moments."""
    if timer.ladder == "publication":
        return view.scheduled_publication
    if timer.ladder == "action" and timer.key:
        action = view.action(int(timer.key))
        return action.due if action else None
    return None


def as_it_stood(view: CaseSnapshot, moment: datetime) -> CaseSnapshot:
    """The case before the transition at `moment`, as far as a deadline's list of people
    goes: a return recorded then was still outstanding, an agency asked then was not yet
    asked. The agency asks are what change that list without moving the deadline."""
    asks = tuple(replace(a, returned_at=None) if a.returned_at == moment else a
                 for a in view.agencies if a.requested_at != moment)
    return replace(view, agencies=asks)


def _entries(people: notify.Directory, change: Change, view: CaseSnapshot,
             moment: datetime | None) -> dict[str, tuple[notify.Recipient, datetime]]:
    """Each person's entry, by address, as `view` has it: whom the selectors name, and the
    moment of the entry each holds."""
    if moment is None:
        return {}
    own = {a.agency: a.due_at for a in view.current_asks()} if change.per_agency else {}
    found = {}
    for person in notify.resolve(people, change.selectors, view, {},
                                 action_number=change.action_number):
        user = people.named(person.name) if person.role == Role.AGENCY_LEAD else None
        found[person.email] = (person, own.get(user.agency, moment) if user and user.agency
                               else moment)
    return found


def queue(definition: ProcessDefinition, case: CaseRecord, view: CaseSnapshot,
          changes: list[Change], *, people: notify.Directory, board: Board,
          timezone: str, now: datetime, history_seq: int, actor: str) -> list[dict[str, Any]]:
    """One calendar_update message per change and person whose entry it changes, each
    carrying that entry: a REQUEST where the entry is new or has moved, a CANCEL where
    the person no longer holds it. `view` is the case as the transition at `now` leaves
    it."""
    if not changes:
        return []
    before = as_it_stood(view, now)
    rows: list[dict[str, Any]] = []
    for change in changes:
        held = _entries(people, change, before, change.was)
        due = _entries(people, change, view, change.due)
        moved: dict[datetime, list[notify.Recipient]] = {}
        for address, (person, moment) in due.items():
            if address not in held or held[address][1] != moment:
                moved.setdefault(moment, []).append(person)
        for moment, recipients in moved.items():
            # An agency lead's own due moment is a moment, not the case's day.
            start, all_day = (change.start, change.all_day) if moment == change.due else (
                moment, False)
            rows += _queue(definition, case, change, recipients, "REQUEST", start, all_day,
                           board=board, timezone=timezone, now=now,
                           history_seq=history_seq, actor=actor)
        gone = [person for address, (person, _) in held.items() if address not in due]
        rows += _queue(definition, case, change, gone, "CANCEL", change.start, change.all_day,
                       board=board, timezone=timezone, now=now, history_seq=history_seq,
                       actor=actor)
    return rows


def _queue(definition: ProcessDefinition, case: CaseRecord, change: Change,
           recipients: list[notify.Recipient], method: str, start: datetime, all_day: bool,
           *, board: Board, timezone: str, now: datetime, history_seq: int,
           actor: str) -> list[dict[str, Any]]:
    if not recipients:
        return []
    from scr.handlers.ics import entry_json

    withdrawn = method == "CANCEL"
    event = notify.Event(
        template="calendar_update",
        label=("Date withdrawn: " if withdrawn else "Date for your calendar: ") + change.what,
        source=case.state, actor=actor, reason=None,
        details=(("Calendar entry", change.what),
                 ("Change", "withdrawn" if withdrawn else "added or moved")),
    )

    def entry(person: notify.Recipient) -> dict[str, Any]:
        return entry_json(
            uid=change.uid, sequence=change.sequence, method=method,
            summary=f"{case.ref} {case.pseudonym}: {change.what}",
            description=f"Case {case.ref} ({case.pseudonym}). See the case record.",
            start=start, all_day=all_day, timezone=timezone,
            organizer=board.address, attendee=person.email)

    deadline = notify.Deadline(change.what, start) if not withdrawn else None
    return notify.queue(case, event, recipients, board=board, timezone=timezone,
                        state_label=definition.state_label(case.state), now=now,
                        deadline=deadline, history_seq=history_seq, calendar=entry,
                        definition=definition)
