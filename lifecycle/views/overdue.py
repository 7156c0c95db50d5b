"""`scr overdue`: every deadline passed (or due within N working days), most urgent first,
with the people who must act: those the timer level notifies.

A deadline is a timer at a deadline level (not a reminder) armed in the case's current
state and still standing: not superseded by a re-arming, not ended by its `disarm_on`
trigger, its condition still true and, for an action, the action still open. A level the
daemon has already fired still counts: firing tells people; it does not do their work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from scr.lifecycle.core import notify
from scr.lifecycle.core.process import Process, Processes
from scr.lifecycle.views.documents import iso
from scr.lifecycle.views.text import table, when
from scr.states.case import CaseSnapshot
from scr.states.enums import ActionStatus
from scr.states.planning import holds
from scr.states.process import DEADLINE_LEVELS, TimerSpec
from scr.states.working_days import Offset, WorkingDays
from scr.storage import cases, history, timers
from scr.storage.db import Tx

# The furthest ahead `within` looks: about ten years of working days, beyond any deadline
# a review sets.
WITHIN_MAX = 2500


def horizon(now: datetime, within: int, cal: WorkingDays) -> datetime:
    """The latest due moment that counts: now, or `within` working days from now."""
    return now if within <= 0 else cal.shift(now, Offset(within, "wd"))


def overdue(tx: Tx, processes: Processes, *, now: datetime, within: int,
            cal: WorkingDays) -> list[dict[str, Any]]:
    """One entry per case and deadline, the longest overdue first."""
    limit = horizon(now, within, cal)
    groups: dict[tuple[int, str, str], list[Any]] = {}
    for timer in timers.deadlines(tx, levels=DEADLINE_LEVELS, by=limit):
        groups.setdefault((timer.case_id, timer.ladder, timer.key), []).append(timer)
    snapshots: dict[int, CaseSnapshot] = {}
    people = notify.directory(tx)
    entries = []
    for (case_id, ladder, _key), found in groups.items():
        first = found[0]
        process = processes.of(first)
        spec = process.definition.timer(ladder)
        if spec is None:
            continue
        if case_id not in snapshots:
            snapshots[case_id] = cases.snapshot(tx, cases.load_by_id(tx, case_id))
        snapshot = snapshots[case_id]
        standing = [t for t in found if _standing(tx, process, t, spec, snapshot)]
        if standing:
            entries.append(_entry(people, process, first, snapshot, spec, standing, now, cal))
    return sorted(entries, key=lambda e: (e["due_at"], e["ref"]))


def _standing(tx: Tx, process: Process, timer: Any, spec: TimerSpec,
              snapshot: CaseSnapshot) -> bool:
    if spec.when and not holds(process.definition.conditions[spec.when], snapshot,
                               process.config):
        return False
    if spec.per_action:
        action = snapshot.action(int(timer.key)) if timer.key else None
        if action is None or action.status != ActionStatus.OPEN:
            return False
    if timers.rearmed_since(tx, timer):
        return False  # re-armed since: the newer timers speak for the ladder
    if spec.disarm_on:
        ended = history.ended(tx, timer.case_id, spec.disarm_on, timer.armed_at)
        if any(not spec.per_action or str((h.params or {}).get("action")) == timer.key
               for h in ended):
            return False
    return True


def _entry(people: notify.Directory, process: Process, case: Any, snapshot: CaseSnapshot,
           spec: TimerSpec, found: Sequence[Any], now: datetime,
           cal: WorkingDays) -> dict[str, Any]:
    first = min(found, key=lambda t: t.due_at)
    worst = max(found, key=lambda t: t.rank)
    level = next(lv for lv in spec.levels if lv.name == worst.level)
    number = int(worst.key) if worst.key else None
    recipients = notify.resolve(people, level.notify, snapshot, {}, action_number=number)
    who = [{"name": p.name, "role": p.role} for p in recipients]
    if spec.fires:
        who.insert(0, {"name": "scr (automatic)", "role": f"fires {spec.fires}"})
    nobody = [process.definition.recipients[s] for s in level.notify
              if not any(p.role == _role_of(s) for p in recipients)]
    return {
        "ref": case.ref, "pseudonym": case.pseudonym, "state": case.case_state,
        "deadline": spec.label + (f" (action {worst.key})" if worst.key else ""),
        "ladder": spec.ladder, "key": worst.key, "level": worst.level,
        "due_at": iso(first.due_at), "overdue": first.due_at <= now,
        "working_days": _working_days(first.due_at, now, cal),
        "who": who, "unfilled": nobody, "rule": first.rule,
    }


def _role_of(selector: str) -> str:
    """The role a recipient selector resolves to: agency_leads:asked -> agency_lead."""
    role = selector.partition(":")[0]
    return {"agency_leads": "agency_lead", "subgroup_members": "subgroup_member"}.get(role, role)


def _working_days(due: datetime, now: datetime, cal: WorkingDays) -> int:
    """Working days overdue (positive) or still to go (negative)."""
    due_day, today = cal.local_date(due), cal.local_date(now)
    if due_day <= today:
        return cal.working_days_between(due_day, today)
    return -cal.working_days_between(today, due_day)


def overdue_text(entries: list[dict[str, Any]], cal: WorkingDays, within: int) -> str:
    if not entries:
        return ("no deadline has passed" if within <= 0 else
                f"no deadline has passed or falls due within {within} working days")
    rows = []
    for e in entries:
        n = e["working_days"]
        if e["overdue"]:
            status = "OVERDUE " + (f"by {n} working day{'s' if n != 1 else ''}" if n
                                   else "today")
        else:
            status = f"due in {-n} working day{'s' if n != -1 else ''}" if n else "due today"
        who = ", ".join(p["name"] for p in e["who"]) or "-"
        if e["unfilled"]:
            who += f" (no user found for: {'; '.join(e['unfilled'])})"
        rows.append([e["ref"], e["pseudonym"], e["state"], e["deadline"], e["level"],
                     when(e["due_at"], cal), status, who])
    return table(["ref", "pseudonym", "state", "deadline", "level", "due", "status",
                          "who must act"], rows)
