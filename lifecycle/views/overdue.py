"""`scr overdue`: every deadline passed (or due within N working days), most urgent first,
with the people who must act: those the timer level notifies (SPEC §4).

A deadline is a timer at a deadline level (not a reminder) armed in the case's current
state and still standing: not superseded by a re-arming, not ended by its `disarm_on`
trigger, its condition still true and, for an action, the action still open. A level the
daemon has already fired still counts: firing tells people; it does not do their work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from lifecycle.core import notify
from lifecycle.core.arming import FIRED, PENDING
from lifecycle.core.snapshot import snapshot
from lifecycle.views import documents as present
from states.calendar import Offset, WorkingCalendar
from states.case import CaseView
from states.definition import RECIPIENTS
from states.enums import ActionStatus
from states.timers import CONDITIONS, TIMER_BY_LADDER, TimerSpec
from storage.models import Case, History, Timer

# The levels that are deadlines rather than early reminders (as `scr list --overdue`).
DEADLINE_LEVELS = ("escalation", "overdue", "due", "chair", "transition")


def horizon(now: datetime, within: int, cal: WorkingCalendar) -> datetime:
    """The latest due moment that counts: now, or `within` working days from now."""
    return now if within <= 0 else cal.shift(now, Offset(within, "wd"))


def overdue(session: Session, *, now: datetime, within: int,
            cal: WorkingCalendar) -> list[dict[str, Any]]:
    """One entry per case and deadline, the longest overdue first."""
    limit = horizon(now, within, cal)
    stmt = (
        select(Timer, Case)
        .join(Case, col(Case.id) == Timer.case_id)
        .where(col(Timer.status).in_((PENDING, FIRED)), Timer.state == Case.state,
               col(Timer.armed_at) >= Case.state_entered_at,
               col(Timer.level).in_(DEADLINE_LEVELS), Timer.due_at <= limit)
        .order_by(col(Timer.due_at), col(Timer.id))
    )
    groups: dict[tuple[int, str, str], list[Timer]] = {}
    cases: dict[int, Case] = {}
    for timer, case in session.exec(stmt).all():
        groups.setdefault((timer.case_id, timer.ladder, timer.key), []).append(timer)
        cases[timer.case_id] = case
    views: dict[int, CaseView] = {}
    entries = []
    for (case_id, ladder, _key), timers in groups.items():
        spec = TIMER_BY_LADDER.get(ladder)
        case = cases[case_id]
        if spec is None:
            continue
        view = views.setdefault(case_id, snapshot(session, case))
        standing = [t for t in timers if _standing(session, t, spec, view)]
        if standing:
            entries.append(_entry(session, case, view, spec, standing, now, cal))
    return sorted(entries, key=lambda e: (e["due_at"], e["ref"]))


def _standing(session: Session, timer: Timer, spec: TimerSpec, view: CaseView) -> bool:
    if spec.when and not CONDITIONS[spec.when](view):
        return False
    if spec.per_action:
        action = view.action(int(timer.key)) if timer.key else None
        if action is None or action.status != ActionStatus.OPEN:
            return False
    later = session.exec(select(Timer.id).where(
        Timer.case_id == timer.case_id, Timer.ladder == timer.ladder, Timer.key == timer.key,
        Timer.armed_at > timer.armed_at).limit(1)).first()
    if later is not None:
        return False  # re-armed since: the newer timers speak for the ladder
    if spec.disarm_on:
        ended = session.exec(select(History).where(
            History.case_id == timer.case_id, col(History.trigger).in_(spec.disarm_on),
            History.at >= timer.armed_at)).all()
        if any(not spec.per_action or str((h.params or {}).get("action")) == timer.key
               for h in ended):
            return False
    return True


def _entry(session: Session, case: Case, view: CaseView, spec: TimerSpec,
           timers: Sequence[Timer], now: datetime, cal: WorkingCalendar) -> dict[str, Any]:
    first = min(timers, key=lambda t: t.due_at)
    worst = max(timers, key=lambda t: t.rank)
    level = next(lv for lv in spec.levels if lv.name == worst.level)
    number = int(worst.key) if worst.key else None
    people = notify.resolve(notify.directory(session), level.notify, view, {},
                            action_number=number)
    who = [{"name": p.name, "role": p.role} for p in people]
    if spec.fires:
        who.insert(0, {"name": "scr (automatic)", "role": f"fires {spec.fires}"})
    nobody = [RECIPIENTS[s] for s in level.notify
              if not any(p.role == _role_of(s) for p in people)]
    return {
        "ref": case.ref, "pseudonym": case.pseudonym, "state": case.state,
        "deadline": spec.label + (f" (action {worst.key})" if worst.key else ""),
        "ladder": spec.ladder, "key": worst.key, "level": worst.level,
        "due_at": present.iso(first.due_at), "overdue": first.due_at <= now,
        "working_days": _working_days(first.due_at, now, cal),
        "who": who, "unfilled": nobody, "rule": first.rule,
    }


def _role_of(selector: str) -> str:
    """The role a recipient selector resolves to: agency_leads:asked -> agency_lead."""
    role = selector.partition(":")[0]
    return {"agency_leads": "agency_lead", "subgroup_members": "subgroup_member"}.get(role, role)


def _working_days(due: datetime, now: datetime, cal: WorkingCalendar) -> int:
    """Working days overdue (positive) or still to go (negative)."""
    due_day, today = cal.local_date(due), cal.local_date(now)
    if due_day <= today:
        return cal.working_days_between(due_day, today)
    return -cal.working_days_between(today, due_day)


def overdue_text(entries: list[dict[str, Any]], cal: WorkingCalendar, within: int) -> str:
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
                     present.when(e["due_at"], cal), status, who])
    return present.table(["ref", "pseudonym", "state", "deadline", "level", "due", "status",
                          "who must act"], rows)
