"""One shared `transitions` Machine per process-definition version.

Cases are attached for the length of one trigger (`add_model(..., initial=stored_state)`)
and detached after; the machine holds no case between calls. Guards are the conditions of
its transitions, so a trigger cannot move a case unless every guard holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from transitions import EventData, Machine

from states.case import CaseView, GuardContext
from states.definition import ALL_TRIGGERS, CREATE_TRIGGER, VERSION
from states.enums import INITIAL_STATE, State
from states.guards import GUARDS


class Subject:
    """What the machine moves: a plain object with identity equality, never a table row."""

    def __init__(self, state: str) -> None:
        self.state = state


def _condition(name: str) -> Callable[[EventData], bool]:
    guard = GUARDS[name]

    def holds(event: EventData) -> bool:
        view: CaseView = event.kwargs["view"]
        ctx: GuardContext = event.kwargs["ctx"]
        return guard(view, ctx) is None

    holds.__name__ = name
    return holds


def build() -> Machine:
    machine = Machine(
        model=None,
        states=[s.value for s in State],
        initial=INITIAL_STATE.value,
        auto_transitions=False,
        send_event=True,
    )
    for spec in ALL_TRIGGERS:
        if spec.name == CREATE_TRIGGER:
            continue  # creates the case; there is no state to leave
        machine.add_transition(
            spec.name,
            [s.value for s in spec.sources],
            spec.dest.value if spec.dest else None,
            conditions=[_condition(g) for g in spec.guards],
        )
    return machine


MACHINES: dict[str, Machine] = {VERSION: build()}
# One subject per machine, attached once: attaching a model adds a method per trigger to
# it, which costs more than the rest of a firing's work in the machine. The subject is set
# to the stored state before each trigger, under the lock, and holds nothing in between.
_SUBJECTS: dict[str, Subject] = {}
_lock = threading.Lock()


def run(version: str, state: str, trigger: str, **kwargs: Any) -> str | None:
    """Fire `trigger` from `state`; the new state, or None if a condition held it back."""
    machine = MACHINES[version]
    state = str(state)  # a plain string: transitions reads Enum members by name
    with _lock:
        subject = _SUBJECTS.get(version)
        if subject is None:
            subject = _SUBJECTS[version] = Subject(state)
            machine.add_model(subject, initial=state)
        machine.set_state(state, model=subject)
        moved = machine.events[trigger].trigger(subject, **kwargs)
        return subject.state if moved else None
