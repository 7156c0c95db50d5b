"""One firing of a trigger, as the machine's callbacks see it: the case before, the input,
the judge's verdict, and what the callbacks record.

The engine makes a Firing for each trigger and hands it to the case's machine
(lifecycle/core/machine.py). The effect (lifecycle/core/effects.py) changes the case record
in memory, writes the case's other facts through storage.facts, and says in `changes` what
it changed outside the case row; the arming callbacks note in `timers` which ladders the
transition ends and starts. The engine then saves the case and applies the timer plan
(lifecycle/core/arming.py), all in the one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from scr.states.case import Actor, CaseSnapshot
from scr.states.config import ProcessConfig
from scr.states.process import ProcessDefinition, TimerSpec, TriggerSpec
from scr.storage.cases import CaseRecord

if TYPE_CHECKING:
    from scr.storage.db import Tx


class Verdict(Protocol):
    """What the machine asks of the judge's answer (lifecycle.core.judge.Judgement)."""

    @property
    def trigger(self) -> str: ...

    @property
    def allowed(self) -> bool: ...


@dataclass
class TimerPlan:
    """What a transition does to the case's timer ladders; applied after the machine ran."""

    leave: bool = False  # the case left its state: every pending timer is disarmed
    enter: list[TimerSpec] = field(default_factory=list)  # ladders armed on entering
    touch: list[TimerSpec] = field(default_factory=list)  # re-armed or ended in the state


@dataclass
class Firing:
    definition: ProcessDefinition  # the case's
    spec: TriggerSpec
    tx: Tx
    case: CaseRecord
    snapshot: CaseSnapshot  # the case before the trigger
    params: dict[str, Any]
    reason: str | None
    actor: Actor
    now: datetime
    config: ProcessConfig  # bound to the case's definition
    judgement: Verdict | None = None
    # What an effect learnt that later steps need (e.g. the new action's number).
    outcome: dict[str, Any] = field(default_factory=dict)
    # What it changed outside the case's row, as new values of CaseSnapshot's fields: the
    # case's snapshot after the trigger (lifecycle.core.snapshot.after) is `snapshot` with
    # these.
    changes: dict[str, Any] = field(default_factory=dict)
    timers: TimerPlan = field(default_factory=TimerPlan)

    @property
    def trigger(self) -> str:
        return self.spec.name
