"""One `transitions` Machine per process definition: the authority on which triggers apply in
a state and where they lead, with each trigger's effect and the timer arming attached as its
callbacks when it is built.

- Every trigger of the definition is a transition (an internal one when it has no
  destination). Its one condition is the judge's verdict (lifecycle/core/judge.py): the
  machine will not move a case on a trigger nobody judged allowed.
- Its `before` callbacks are the trigger's effect, looked up by the name the definition
  gives (lifecycle/core/effects.py), and what it records in the definition's own facts
  (TriggerSpec.records); a name with no effect registered fails here, when the machine is
  built, and so does an effect that no trigger of any shipped definition names.
- Leaving a state with timers disarms them (`on_exit`); entering one arms its ladders
  (`on_enter`); an internal trigger that re-arms or ends a ladder says so (`after`). The
  callbacks only note the plan on the Firing; lifecycle/core/arming.py applies it.

A case is not attached to the machine: each firing moves a plain subject set to the case's
stored state (no `add_model`, so no shared model and no lock between threads), inside the
trigger's database transaction, which rolls everything back if a callback raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from transitions import EventData, Machine

from scr.lifecycle.core import effects
from scr.lifecycle.core.firing import Firing
from scr.states.process import ENTER, ProcessDefinition, TimerSpec
from scr.states.registry import REGISTRY


class MachineError(RuntimeError):
    """A definition the machine cannot be built from (a misspelt effect, say)."""


class _Subject:
    """What the machine moves for one firing: a plain object holding the state."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _firing(event: EventData) -> Firing:
    firing: Firing = event.kwargs["firing"]
    return firing


def _judged(event: EventData) -> bool:
    """The transition's one condition: the judge allowed this trigger for this firing."""
    verdict = _firing(event).judgement
    return verdict is not None and verdict.allowed and verdict.trigger == event.event.name


def _effect(name: str) -> Callable[[EventData], None]:
    if name not in effects.EFFECTS:
        raise MachineError(f"no effect {name!r} is registered in lifecycle/core/effects.py "
                           "(declare effect=None on a trigger that records nothing)")

    def run(event: EventData) -> None:
        effects.EFFECTS[name](_firing(event))

    run.__name__ = f"effect_{name}"
    return run


def _record(event: EventData) -> None:
    effects.record_facts(_firing(event))


def _leave(event: EventData) -> None:
    _firing(event).timers.leave = True


class ProcessMachine:
    """The machine of one definition, and what it says about triggers and states."""

    def __init__(self, definition: ProcessDefinition) -> None:
        self.definition = definition
        # Plain strings: transitions reads an Enum member by its name, not its value.
        self._machine = Machine(model=None, states=[str(s) for s in definition.states],
                                initial=str(definition.initial), auto_transitions=False,
                                send_event=True)
        self._entering: dict[str, tuple[TimerSpec, ...]] = {}
        for state in definition.states:
            ladders = tuple(t for t in definition.timers if state in t.states)
            if ladders:
                self._machine.get_state(str(state)).add_callback("exit", _leave)
            entry = tuple(t for t in ladders if ENTER in t.arm_on)
            if entry:
                self._entering[str(state)] = entry
                self._machine.get_state(str(state)).add_callback("enter", self._enter)
        for spec in definition.all_triggers:
            name = spec.effect_name
            touched = [t for t in definition.timers
                       if spec.name in (*t.arm_on, *t.disarm_on)] if spec.internal else []
            self._machine.add_transition(
                spec.name, [str(s) for s in spec.sources],
                str(spec.dest) if spec.dest is not None else None, conditions=[_judged],
                before=[*([_effect(name)] if name is not None else []),
                        *([_record] if spec.records else [])],
                after=[self._toucher(touched)] if touched else [],
            )
        self._from = {str(s): frozenset(self._machine.get_triggers(str(s)))
                      for s in definition.states}
        self._order = {s: tuple(t.name for t in definition.all_triggers if t.name in names)
                       for s, names in self._from.items()}

    # ------------------------------------------------------------------ what it says
    def applies(self, state: str, trigger: str) -> bool:
        return trigger in self._from.get(state, ())

    def triggers_from(self, state: str) -> tuple[str, ...]:
        """The triggers that apply in `state`, the daemon's own included, in the
        definition's order."""
        return self._order.get(state, ())

    def dest(self, state: str, trigger: str) -> str | None:
        """Where `trigger` leads from `state`; None when it records and stays."""
        found = self._machine.events[trigger].transitions[state][0].dest
        return None if found is None or found == state else str(found)

    def entering(self, state: str, trigger: str) -> list[TimerSpec]:
        """The ladders armed when a case enters `state` by `trigger`."""
        return [t for t in self._entering.get(state, ())
                if not t.enter_via or trigger in t.enter_via]

    # ----------------------------------------------------------------------- moving
    def run(self, firing: Firing) -> str:
        """Move the case by the firing's trigger, running its callbacks; the new state."""
        subject = _Subject(firing.snapshot.state)
        moved = self._machine.events[firing.spec.name].trigger(subject, firing=firing)
        if not moved:
            raise MachineError(f"{firing.spec.name} was not judged allowed on "
                               f"{firing.case.ref}: the machine does not move")
        return subject.state

    # -------------------------------------------------------------------- callbacks
    def _enter(self, event: EventData) -> None:
        firing = _firing(event)
        firing.timers.enter += self.entering(event.state.name, firing.spec.name)

    @staticmethod
    def _toucher(ladders: Iterable[TimerSpec]) -> Callable[[EventData], None]:
        touched = list(ladders)

        def touch(event: EventData) -> None:
            _firing(event).timers.touch += touched

        return touch


def build(definitions: Iterable[ProcessDefinition]) -> dict[tuple[str, str], ProcessMachine]:
    """A machine for each definition; MachineError if an effect is unknown, or registered
    under a name no trigger of them names."""
    built = {d.key: ProcessMachine(d) for d in definitions}
    named = {t.effect_name for d in built.values() for t in d.definition.all_triggers}
    unused = sorted(set(effects.EFFECTS) - named)
    if unused:
        raise MachineError(f"effects registered for no trigger: {', '.join(unused)}")
    return built


# Built at import for every shipped definition, so a misspelt name never loads.
SHIPPED: dict[tuple[str, str], ProcessMachine] = build(REGISTRY)
