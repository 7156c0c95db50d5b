"""Checks of the process definition, run at import: a broken process never loads.

Every state reachable from the initial one; every final state reachable; no trap state
(from every state a final state can be reached); final states absorb; every guard,
role, recipient, anchor, condition and offset named exists.
"""

from __future__ import annotations

from collections.abc import Iterable

from states.definition import ALL_TRIGGERS, RECIPIENTS, TRIGGER_BY_NAME, TriggerSpec
from states.enums import FINAL_STATES, INITIAL_STATE, Role, State
from states.guards import GUARDS
from states.timers import ANCHORS, CONDITIONS, DEFAULT_OFFSETS, ENTER, TIMERS, TimerSpec


class DefinitionError(ValueError):
    """The process definition contradicts itself."""


def edges(triggers: Iterable[TriggerSpec]) -> dict[State, set[State]]:
    graph: dict[State, set[State]] = {s: set() for s in State}
    for t in triggers:
        if t.dest is not None:
            for source in t.sources:
                graph[source].add(t.dest)
    return graph


def reachable(graph: dict[State, set[State]], start: State) -> set[State]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def problems(
    triggers: tuple[TriggerSpec, ...] = ALL_TRIGGERS, timers: tuple[TimerSpec, ...] = TIMERS
) -> list[str]:
    """Every inconsistency found; empty when the definition is sound."""
    found: list[str] = []
    names = [t.name for t in triggers]
    if len(set(names)) != len(names):
        found.append("a trigger name is used twice")
    for t in triggers:
        found += _trigger_problems(t)
    graph = edges(triggers)
    from_start = reachable(graph, INITIAL_STATE)
    found += [f"state {s} is not reachable" for s in State if s not in from_start]
    for state in State:
        if state in FINAL_STATES:
            if graph[state]:
                found.append(f"final state {state} has a transition out")
        elif not reachable(graph, state) & FINAL_STATES:
            found.append(f"state {state} is a trap: no final state can be reached from it")
    by_name = {t.name: t for t in triggers}
    for timer in timers:
        found += _timer_problems(timer, by_name)
    return found


def _trigger_problems(t: TriggerSpec) -> list[str]:
    found = [f"{t.name}: unknown guard {g}" for g in t.guards if g not in GUARDS]
    found += [f"{t.name}: unknown recipient {r}" for r in t.notify if r not in RECIPIENTS]
    found += [f"{t.name}: unknown role {r.role}" for r in t.roles if r.role not in set(Role)]
    found += [f"{t.name}: unknown role scope {r.scope}" for r in t.roles
              if r.scope not in (None, "param", "action")]
    if not t.roles:
        found.append(f"{t.name}: nobody may fire it")
    if t.timed and not any(r.role == Role.SYSTEM for r in t.roles):
        found.append(f"{t.name}: timed but the system may not fire it")
    params = [p.name for p in t.params]
    if len(set(params)) != len(params):
        found.append(f"{t.name}: a parameter name is used twice")
    if not t.sources and t.name != "refer":
        found.append(f"{t.name}: applies in no state")
    return found


def _timer_problems(timer: TimerSpec, by_name: dict[str, TriggerSpec]) -> list[str]:
    found: list[str] = []
    where = f"timer {timer.ladder}"
    for name in (*timer.arm_on, *timer.disarm_on, *timer.enter_via):
        if name != ENTER and name not in by_name:
            found.append(f"{where}: unknown trigger {name}")
    if timer.fires is not None:
        fired = by_name.get(timer.fires)
        if fired is None or not fired.timed or timer.state not in fired.sources:
            found.append(f"{where}: fires {timer.fires}, which is not timed from {timer.state}")
    if timer.when is not None and timer.when not in CONDITIONS:
        found.append(f"{where}: unknown condition {timer.when}")
    if not timer.levels:
        found.append(f"{where}: has no level")
    if timer.calendar is not None and timer.calendar not in {lv.name for lv in timer.levels}:
        found.append(f"{where}: calendar names no level of it: {timer.calendar}")
    if timer.refused is not None:
        if timer.fires is None:
            found.append(f"{where}: a refusal level, but it fires no trigger")
        if timer.refused.name in {lv.name for lv in timer.levels}:
            found.append(f"{where}: refusal level {timer.refused.name} is also a planned level")
        found += [f"{where}: unknown recipient {r}" for r in timer.refused.notify
                  if r not in RECIPIENTS]
    for level in timer.levels:
        key = f"{timer.ladder}.{level.name}"
        if level.anchor not in ANCHORS:
            found.append(f"{where}: unknown anchor {level.anchor}")
        if key not in DEFAULT_OFFSETS:
            found.append(f"{where}: no default offset {key}")
        if level.recurring and f"{key}.every" not in DEFAULT_OFFSETS:
            found.append(f"{where}: recurring level without {key}.every")
        found += [f"{where}: unknown recipient {r}" for r in level.notify if r not in RECIPIENTS]
        if timer.fires is None and not level.notify:
            found.append(f"{where}: level {level.name} neither notifies nor fires")
    return found


def check() -> None:
    """Raise DefinitionError listing every problem of the loaded definition."""
    found = problems()
    if found:
        raise DefinitionError("; ".join(found))


assert TRIGGER_BY_NAME  # the definition module is loaded before checking
