"""Arming and disarming a case's timers as it moves (SPEC §4).

Called by the engine inside the trigger's transaction, so a timer is never armed without
its transition, nor left armed after the case has left its state. The case's timers are
read once, and the changes written with one UPDATE and one INSERT, each a prepared statement
on the driver's cursor (storage.direct).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select
from sqlalchemy import update as sql_update

from states.case import CaseView
from states.config import ProcessConfig
from states.timers import ENTER, TIMER_BY_LADDER, TIMERS, TimerSpec, plan
from storage import tables
from storage.direct import Prepared, inserting

if TYPE_CHECKING:
    from sqlmodel import Session

    from storage.caserow import AnyCase

PENDING, FIRED, SKIPPED, DISARMED, STALE = "pending", "fired", "skipped", "disarmed", "stale"

_T = tables.TIMERS
# The timers that matter to a change: those pending, and those that went out (fired, or
# skipped under a higher level) since the case entered its state. A case's older timers
# only count for the calendar sequence of the timer re-armed (_SEQUENCES).
_CASE_TIMERS = Prepared(select(
    _T.c.name, _T.c.ladder, _T.c.level, _T.c.rank, _T.c.key, _T.c.status, _T.c.armed_at,
    _T.c.due_at, _T.c.sequence, _T.c.id,
).where(
    _T.c.case_id == bindparam("case_id"),
    (_T.c.status == PENDING) | (((_T.c.status == FIRED) | (_T.c.status == SKIPPED))
                                & (_T.c.armed_at >= bindparam("entered", _T.c.armed_at.type))),
))
_SEQUENCES = Prepared(select(_T.c.name, func.max(_T.c.sequence)).where(
    _T.c.case_id == bindparam("case_id")).group_by(_T.c.name))
_DISARM = Prepared(sql_update(_T).where(_T.c.id == bindparam("timer_id")).values(
    status=DISARMED))
_ARM = inserting(_T)


@dataclass(frozen=True)
class TimerRow:
    """A timer as the engine and the e-mail need it."""

    name: str
    ladder: str
    level: str
    rank: int
    key: str
    status: str
    armed_at: datetime
    due_at: datetime
    sequence: int
    id: int | None = None
    state: str = ""
    fires: str | None = None
    rule: str = ""


@dataclass
class TimerChanges:
    armed: list[TimerRow] = field(default_factory=list)
    disarmed: list[TimerRow] = field(default_factory=list)
    # The case's pending timers after the change, for the next deadline an e-mail names.
    pending: list[TimerRow] = field(default_factory=list)


def update(
    session: Session,
    case: AnyCase,
    view: CaseView,
    *,
    trigger: str,
    source: str | None,
    params: dict[str, object],
    outcome: dict[str, object],
    now: datetime,
    config: ProcessConfig,
) -> TimerChanges:
    """Disarm what the trigger ends and arm what it starts; returns both for the e-mail."""
    assert case.id is not None
    known = [TimerRow(*r) for r in _CASE_TIMERS.all(
        session, {"case_id": case.id, "entered": case.state_entered_at})]
    pending = [t for t in known if t.status == PENDING]
    changes = TimerChanges()
    arm: list[tuple[TimerSpec, str]] = []
    dest = view.state
    if source != dest:
        changes.disarmed = pending
        arm = [(spec, "") for spec in TIMERS
               if spec.state == dest and ENTER in spec.arm_on
               and (not spec.enter_via or trigger in spec.enter_via)]
    else:
        for spec in TIMERS:
            if spec.state != dest or trigger not in (*spec.arm_on, *spec.disarm_on):
                continue
            key = _action_key(spec, params, outcome)
            changes.disarmed += [t for t in pending if t.ladder == spec.ladder and t.key == key]
            if trigger in spec.arm_on:
                arm.append((spec, key))
    sequences = dict(_SEQUENCES.all(session, {"case_id": case.id})) if arm else {}
    for spec, key in arm:
        changes.armed += _plan(case, view, spec, key, known, sequences, now, config)
    gone = {t.id for t in changes.disarmed}
    changes.pending = [t for t in pending if t.id not in gone] + changes.armed
    _write(session, case.id, changes, now)
    return changes


def _action_key(spec: TimerSpec, params: dict[str, object], outcome: dict[str, object]) -> str:
    if not spec.per_action:
        return ""
    number = outcome.get("action", params.get("action"))
    return str(number) if number is not None else ""


def _plan(case: AnyCase, view: CaseView, spec: TimerSpec, key: str, known: list[TimerRow],
          sequences: dict[str, int], now: datetime, config: ProcessConfig) -> list[TimerRow]:
    action = view.action(int(key)) if key else None
    # Re-arming a ladder (a return recorded, a meeting recorded) must not repeat a level
    # that already went out in this stay in the state and would be due again at once: the
    # people concerned have been told.
    gone_out = {t.name for t in known if t.status in (FIRED, SKIPPED)
                and t.armed_at >= case.state_entered_at}
    rows = []
    for planned in plan(spec, view, armed_at=now, config=config, action=action):
        if planned.due_at <= now and planned.name in gone_out:
            continue
        rows.append(TimerRow(
            name=planned.name, ladder=planned.ladder, level=planned.level, rank=planned.rank,
            key=planned.key, status=PENDING, armed_at=now, due_at=planned.due_at,
            sequence=sequences.get(planned.name, -1) + 1, state=spec.state.value,
            fires=planned.fires, rule=planned.rule,
        ))
    return rows


def _write(session: Session, case_id: int, changes: TimerChanges, now: datetime) -> None:
    _DISARM.run_many(session, [{"timer_id": t.id} for t in changes.disarmed])
    _ARM.run_many(session, [{
            "case_id": case_id, "ladder": t.ladder, "level": t.level, "rank": t.rank,
            "key": t.key, "name": t.name, "state": t.state, "fires": t.fires,
            "due_at": t.due_at, "rule": t.rule, "status": PENDING, "armed_at": now,
            "fired_at": None, "sequence": t.sequence,
        } for t in changes.armed])


def label(timer: Any) -> str:
    """A human name for a timer, e.g. 'Agency returns due (overdue)'."""
    spec = TIMER_BY_LADDER.get(timer.ladder)
    base = spec.label if spec else timer.ladder
    suffix = f" {timer.key}" if timer.key else ""
    return f"{base}{suffix} ({timer.level})"
