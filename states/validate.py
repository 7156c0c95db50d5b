"""Checks of a process definition, run when it is registered: a broken process never loads.

Every state reachable from the initial one; every final state reachable; no trap state
(from every state a final state can be reached); final states absorb; every state,
guard, role, recipient, anchor, condition and offset named exists.
"""

from __future__ import annotations

from collections.abc import Iterable

from scr.states.corrections import CORRECT_TRIGGER
from scr.states.enums import Kind, Role
from scr.states.facts import FactType
from scr.states.migration import MIGRATE_TRIGGER
from scr.states.planning import ANCHORS
from scr.states.process import (
    ENTER,
    NO_REVIEW,
    WITHDRAWN,
    ProcessDefinition,
    TimerSpec,
    TriggerSpec,
)


class DefinitionError(ValueError):
    """The process definition contradicts itself."""


def edges(states: Iterable[str], triggers: Iterable[TriggerSpec]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {s: set() for s in states}
    for t in triggers:
        if t.dest is not None:
            for source in t.sources:
                graph.setdefault(source, set()).add(t.dest)
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _opening_problems(d: ProcessDefinition) -> list[str]:
    """What a record opens with: a known kind, whose fields the creating trigger takes; a
    process for referrals judges them against criteria, and only such a one may show its
    criteria with a decision."""
    from scr.states.process import OPENS

    if d.opens not in OPENS:
        return [f"opens {d.opens!r}: not one of {', '.join(OPENS)}"]
    taken = {p.name for p in d.create.params}
    found = [f"{d.create.name}: a record that opens with a {d.opens} needs the parameter "
             f"{name}" for name in OPENS[d.opens] if name not in taken]
    if d.referred and d.criteria is None:
        found.append("a process for referrals needs its criteria")
    if d.criteria is None:
        found += [f"{t.name}: shows criteria, but the process has none"
                  for t in (d.create, *d.all_triggers) if t.criteria]
    return found


def problems(definition: ProcessDefinition) -> list[str]:
    """Every inconsistency found; empty when the definition is sound."""
    d = definition
    found: list[str] = []
    states = set(d.states)
    if d.initial not in states:
        found.append(f"the initial state {d.initial} is not a state")
    found += [f"final state {s} is not a state" for s in sorted(d.finals - states)]
    found += [f"state {s} has no label" for s in d.states if s not in d.state_labels]
    triggers = (d.create, *d.all_triggers)
    names = [t.name for t in triggers]
    if len(set(names)) != len(names):
        found.append("a trigger name is used twice")
    if MIGRATE_TRIGGER in names:
        found.append(f"{MIGRATE_TRIGGER}: the name is reserved for the history row of a case "
                     "moved to another version (states/migration.py)")
    if CORRECT_TRIGGER in names:
        found.append(f"{CORRECT_TRIGGER}: the name is reserved for the history row of a "
                     "correction (states/corrections.py)")
    if d.create.dest != d.initial or d.create.sources:
        found.append(f"{d.create.name}: the creating trigger must lead from nowhere to "
                     f"{d.initial}")
    found += _opening_problems(d)
    for t in triggers:
        found += _trigger_problems(d, t)
    graph = edges(d.states, d.all_triggers)
    graph.setdefault(d.initial, set())
    from_start = reachable(graph, d.initial)
    found += [f"state {s} is not reachable" for s in d.states if s not in from_start]
    for state in d.states:
        if state in d.finals:
            # A final state is left only under a guard that judges the case (CSPR version
            # 2: the Panel asks for the local review the partners decided against).
            found += [f"final state {state} has a transition out ({t.name}) no guard on "
                      "the case holds back" for t in d.all_triggers
                      if state in t.sources and t.dest is not None and t.dest != state
                      and not any(g not in d.input_guards for g in t.guards)]
        elif not reachable(graph, state) & d.finals:
            found.append(f"state {state} is a trap: no final state can be reached from it")
    facts = [f.name for f in d.facts]
    if len(set(facts)) != len(facts):
        found.append("a fact name is used twice")
    found += [f"fact {f.name}: a choice without choices" for f in d.facts
              if f.type == FactType.CHOICE and not f.choices]
    by_name = {t.name: t for t in triggers}
    for timer in d.timers:
        found += _timer_problems(d, timer, by_name)
    return found


def _trigger_problems(d: ProcessDefinition, t: TriggerSpec) -> list[str]:
    found = [f"{t.name}: unknown guard {g}" for g in t.guards if g not in d.guards]
    found += [f"{t.name}: unknown recipient {r}" for r in t.notify if r not in d.recipients]
    found += [f"{t.name}: unknown role {r.role}" for r in t.roles if r.role not in set(Role)]
    found += [f"{t.name}: unknown role scope {r.scope}" for r in t.roles
              if r.scope not in (None, "param", "action", "partner")]
    found += [f"{t.name}: unknown state {s}" for s in (*t.sources, t.dest)
              if s is not None and s not in d.states]
    if not t.roles:
        found.append(f"{t.name}: nobody may fire it")
    if t.timed and not any(r.role == Role.SYSTEM for r in t.roles):
        found.append(f"{t.name}: timed but the system may not fire it")
    params = [p.name for p in t.params]
    if len(set(params)) != len(params):
        found.append(f"{t.name}: a parameter name is used twice")
    if not t.sources and t is not d.create:
        found.append(f"{t.name}: applies in no state")
    if t.decision is not None and t.decision not in (*Kind, NO_REVIEW, WITHDRAWN):
        found.append(f"{t.name}: unknown decision {t.decision}")
    if t.effect_name == "commission" and t.decision not in set(Kind):
        found.append(f"{t.name}: commissions a review without saying its kind (decision)")
    for rec in t.records:
        fact = d.fact(rec.fact)
        if fact is None:
            found.append(f"{t.name}: records {rec.fact}, which the definition does not declare")
        elif (rec.key is None) == (fact.type == FactType.VIEWS):
            found.append(f"{t.name}: records {rec.fact} " + (
                "without the key its views are kept by" if rec.key is None else
                "by a key, but it is not kept by key"))
        found += [f"{t.name}: records {rec.fact} from an unknown parameter {p}"
                  for p in (rec.param, rec.key) if p is not None and p not in params]
    return found


def _timer_problems(d: ProcessDefinition, timer: TimerSpec,
                    by_name: dict[str, TriggerSpec]) -> list[str]:
    found: list[str] = []
    where = f"timer {timer.ladder}"
    found += [f"{where}: unknown state {s}" for s in timer.states if s not in d.states]
    if timer.also_in and timer.per_action:
        found.append(f"{where}: a per-action ladder cannot span states")
    for name in (*timer.arm_on, *timer.disarm_on, *timer.enter_via):
        if name != ENTER and name not in by_name:
            found.append(f"{where}: unknown trigger {name}")
    if timer.fires is not None:
        fired = by_name.get(timer.fires)
        if fired is None or not fired.timed or timer.state not in fired.sources:
            found.append(f"{where}: fires {timer.fires}, which is not timed from {timer.state}")
    if timer.when is not None and timer.when not in d.conditions:
        found.append(f"{where}: unknown condition {timer.when}")
    if not timer.levels:
        found.append(f"{where}: has no level")
    if timer.invite is not None and timer.invite not in {lv.name for lv in timer.levels}:
        found.append(f"{where}: the invitation names no level of it: {timer.invite}")
    if timer.refused is not None:
        if timer.fires is None:
            found.append(f"{where}: a refusal level, but it fires no trigger")
        if timer.refused.name in {lv.name for lv in timer.levels}:
            found.append(f"{where}: refusal level {timer.refused.name} is also a planned level")
        found += [f"{where}: unknown recipient {r}" for r in timer.refused.notify
                  if r not in d.recipients]
    for level in timer.levels:
        key = f"{timer.ladder}.{level.name}"
        if level.anchor not in ANCHORS:
            found.append(f"{where}: unknown anchor {level.anchor}")
        if key not in d.default_offsets:
            found.append(f"{where}: no default offset {key}")
        if level.recurring and f"{key}.every" not in d.default_offsets:
            found.append(f"{where}: recurring level without {key}.every")
        found += [f"{where}: unknown recipient {r}" for r in level.notify
                  if r not in d.recipients]
        if timer.fires is None and not level.notify:
            found.append(f"{where}: level {level.name} neither notifies nor fires")
    return found


def check(definition: ProcessDefinition) -> None:
    """Raise DefinitionError listing every problem of `definition`."""
    found = problems(definition)
    if found:
        raise DefinitionError(f"{definition.name} version {definition.version}: "
                              + "; ".join(found))
