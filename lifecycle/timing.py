"""Arming and disarming a case's timers as it moves (SPEC §4).

Called by the engine inside the trigger's transaction, so a timer is never armed without
its transition, nor left armed after the case has left its state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from states.case import CaseView
from states.config import ProcessConfig
from states.timers import ENTER, TIMER_BY_LADDER, TIMERS, TimerSpec, plan
from storage import queries
from storage.models import Case, Timer

PENDING, FIRED, SKIPPED, DISARMED, STALE = "pending", "fired", "skipped", "disarmed", "stale"


@dataclass
class TimerChanges:
    armed: list[Timer] = field(default_factory=list)
    disarmed: list[Timer] = field(default_factory=list)


def update(
    session: Session,
    case: Case,
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
    changes = TimerChanges()
    pending = list(queries.timers(session, case.id, status=PENDING))
    dest = view.state
    if source != dest:
        for timer in pending:
            _disarm(timer, changes)
        for spec in TIMERS:
            if spec.state == dest and ENTER in spec.arm_on and (
                not spec.enter_via or trigger in spec.enter_via
            ):
                _arm(session, case, view, spec, "", now, config, changes)
        return changes
    for spec in TIMERS:
        if spec.state != dest or trigger not in (*spec.arm_on, *spec.disarm_on):
            continue
        key = _action_key(spec, params, outcome)
        for timer in pending:
            if timer.ladder == spec.ladder and timer.key == key:
                _disarm(timer, changes)
        if trigger in spec.arm_on:
            _arm(session, case, view, spec, key, now, config, changes)
    return changes


def _action_key(spec: TimerSpec, params: dict[str, object], outcome: dict[str, object]) -> str:
    if not spec.per_action:
        return ""
    number = outcome.get("action", params.get("action"))
    return str(number) if number is not None else ""


def _disarm(timer: Timer, changes: TimerChanges) -> None:
    timer.status = DISARMED
    changes.disarmed.append(timer)


def _arm(
    session: Session,
    case: Case,
    view: CaseView,
    spec: TimerSpec,
    key: str,
    now: datetime,
    config: ProcessConfig,
    changes: TimerChanges,
) -> None:
    assert case.id is not None
    action = view.action(int(key)) if key else None
    done: set[str] | None = None
    for planned in plan(spec, view, armed_at=now, config=config, action=action):
        if planned.due_at <= now:
            # Re-arming a ladder (a return recorded, a meeting recorded) must not repeat a
            # level that already went out in this stay in the state and would be due again
            # at once: the people concerned have been told.
            done = _gone_out(session, case) if done is None else done
            if planned.name in done:
                continue
        previous = queries.latest_sequence(session, case.id, planned.name)
        timer = Timer(
            case_id=case.id, ladder=planned.ladder, level=planned.level, rank=planned.rank,
            key=planned.key, name=planned.name, state=spec.state, fires=planned.fires,
            due_at=planned.due_at, rule=planned.rule, status=PENDING, armed_at=now,
            sequence=0 if previous is None else previous + 1,
        )
        session.add(timer)
        changes.armed.append(timer)


def _gone_out(session: Session, case: Case) -> set[str]:
    """Names of the case's timers fired or skipped since it entered its current state."""
    stmt = select(Timer.name).where(
        Timer.case_id == case.id, col(Timer.status).in_((FIRED, SKIPPED)),
        col(Timer.armed_at) >= case.state_entered_at,
    )
    return set(session.exec(stmt).all())


def label(timer: Timer) -> str:
    """A human name for a timer, e.g. 'Agency returns due (overdue)'."""
    spec = TIMER_BY_LADDER.get(timer.ladder)
    base = spec.label if spec else timer.ladder
    suffix = f" {timer.key}" if timer.key else ""
    return f"{base}{suffix} ({timer.level})"
