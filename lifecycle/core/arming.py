"""Arming and disarming a case's timers as it moves.

The case's machine notes on the Firing which ladders the transition ends and starts
(lifecycle/core/machine.py); `apply` carries the plan out inside the trigger's transaction,
so a timer is never armed without its transition, nor left armed after the case has left
its state. The case's timers are read once, and the changes written with one UPDATE and one
INSERT (storage.timers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scr.lifecycle.core.firing import TimerPlan
from scr.states.case import CaseSnapshot
from scr.states.config import ProcessConfig
from scr.states.planning import PlannedTimer, plan
from scr.states.process import ProcessDefinition, TimerSpec
from scr.storage import timers
from scr.storage.cases import CaseRecord
from scr.storage.db import Tx
from scr.storage.timers import FIRED, PENDING, SKIPPED, TimerRecord


@dataclass
class TimerChanges:
    armed: list[TimerRecord] = field(default_factory=list)
    disarmed: list[TimerRecord] = field(default_factory=list)
    # The case's pending timers after the change, for the next deadline an e-mail names.
    pending: list[TimerRecord] = field(default_factory=list)


def apply(tx: Tx, definition: ProcessDefinition, case: CaseRecord, snapshot: CaseSnapshot,
          timer_plan: TimerPlan, *, trigger: str, params: dict[str, Any],
          outcome: dict[str, Any], now: datetime, config: ProcessConfig) -> TimerChanges:
    """Disarm what the trigger ends and arm what it starts, planned on the case's snapshot
    after the trigger; returns both for the e-mail."""
    known = timers.of_stay(tx, case.id, case.state_entered_at)
    pending = [t for t in known if t.status == PENDING]
    changes = TimerChanges()
    arm: list[tuple[TimerSpec, str]] = [(spec, "") for spec in timer_plan.enter]
    if timer_plan.leave:
        changes.disarmed = pending
    for spec in timer_plan.touch:
        key = _action_key(spec, params, outcome)
        changes.disarmed += [t for t in pending if t.ladder == spec.ladder and t.key == key]
        if trigger in spec.arm_on:
            arm.append((spec, key))
    planned = [p for spec, key in arm
               for p in _plan(tx, definition, case, snapshot, spec, key, known, now, config)]
    latest = _latest(tx, case.id, planned, pending)
    changes.armed = [TimerRecord(
        name=p.name, ladder=p.ladder, level=p.level, rank=p.rank, key=p.key, status=PENDING,
        armed_at=now, due_at=p.due_at, sequence=latest.get(p.name, -1) + 1, state=state,
        fires=p.fires, rule=p.rule) for p, state in planned]
    gone = {t.id for t in changes.disarmed}
    changes.pending = [t for t in pending if t.id not in gone] + changes.armed
    timers.disarm(tx, changes.disarmed)
    timers.arm(tx, case.id, changes.armed)
    return changes


def _action_key(spec: TimerSpec, params: dict[str, Any], outcome: dict[str, Any]) -> str:
    if not spec.per_action:
        return ""
    number = outcome.get("action", params.get("action"))
    return str(number) if number is not None else ""


def _latest(tx: Tx, case_id: int, planned: list[tuple[PlannedTimer, str]],
            pending: list[TimerRecord]) -> dict[str, int]:
    """The calendar sequence of each planned name's latest timer (a timer armed takes the
    next). A pending timer is always its name's latest, so the case's older rows are read
    only for a name with none pending."""
    latest = {t.name: t.sequence for t in pending}
    if any(p.name not in latest for p, _ in planned):
        latest = timers.sequences(tx, case_id)
    return latest


def _plan(tx: Tx, definition: ProcessDefinition, case: CaseRecord, snapshot: CaseSnapshot,
          spec: TimerSpec, key: str, known: list[TimerRecord], now: datetime,
          config: ProcessConfig) -> list[tuple[PlannedTimer, str]]:
    action = snapshot.action(int(key)) if key else None
    # Re-arming a ladder (a return recorded, a meeting recorded) must not repeat a level
    # that already went out in this stay in the state and would be due again at once: the
    # people concerned have been told.
    gone_out = {t.name for t in known if t.status in (FIRED, SKIPPED)
                and t.armed_at >= case.state_entered_at}
    if spec.also_in:
        # A clock across states says each level once for the case, whatever the state.
        gone_out |= timers.gone_out(tx, case.id, spec.ladder)
        return [(planned, case.state)
                for planned in plan(definition.conditions, spec, snapshot, armed_at=now,
                                    config=config, action=action)
                if planned.name not in gone_out]
    return [(planned, spec.state)
            for planned in plan(definition.conditions, spec, snapshot, armed_at=now,
                                config=config, action=action)
            if not (planned.due_at <= now and planned.name in gone_out)]


def label(definition: ProcessDefinition, timer: Any) -> str:
    """A human name for a timer, e.g. 'Agency returns due (overdue)', 'Action due (action
    2, reminder)', and a ladder's deadline itself 'Rapid review due' (states.words)."""
    from scr.states.words import timer_label

    return timer_label(definition, timer.ladder, timer.level, timer.key or None)
