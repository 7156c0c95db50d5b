"""The one judge of "may this trigger fire, for this actor, now?", with every reason when not.

`judge` weighs a trigger on a case's snapshot in three parts, and reports each:

1. the state: the case's machine says whether the trigger applies in the case's state and
   where it leads (lifecycle/core/machine.py);
2. the role: whether the actor holds one of the trigger's roles (and, for an agency lead,
   is the lead of the agency concerned);
3. the guards of the case's definition, every one of them, so a refusal lists all the
   reasons at once.

`Engine.fire` fires only on an allowed judgement, and the machine will not move without
one; `scr triggers` (no input yet), `scr why` (the input one would give) and the shell's
`help TRIGGER` show what it weighs. Guards that read the trigger's input (parameters or
--reason) are not judged without input: they are what the trigger needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scr.states.case import SYSTEM_ACTOR, Actor, CaseSnapshot, GuardContext
from scr.states.enums import Role
from scr.states.process import RoleRule, TriggerSpec

if TYPE_CHECKING:
    from scr.lifecycle.core.process import Process


@dataclass(frozen=True)
class RoleCheck:
    roles: tuple[str, ...]  # who may fire it, in words
    judged: bool  # False: no actor was given
    ok: bool | None = None
    reason: str | None = None
    actor_roles: tuple[str, ...] = ()
    scope_judged: bool = True  # False: the agency concerned is not known yet


@dataclass(frozen=True)
class GuardCheck:
    guard: str
    reads_input: bool
    judged: bool
    reason: str | None = None

    @property
    def holds(self) -> bool:
        return self.judged and self.reason is None


@dataclass(frozen=True)
class Judgement:
    trigger: str
    label: str
    state: str
    applies: bool
    applies_in: tuple[str, ...]  # the states it applies in
    dest: str | None  # where it leads; None: it records and stays
    role: RoleCheck
    guards: tuple[GuardCheck, ...]
    needs: tuple[str, ...]  # the input it takes: parameters, and a reason where needed

    @property
    def state_reason(self) -> str | None:
        if self.applies:
            return None
        return (f"{self.trigger} does not apply in state {self.state} (it applies in "
                f"{', '.join(self.applies_in)})")

    @property
    def guard_reasons(self) -> tuple[str, ...]:
        return tuple(g.reason for g in self.guards if g.judged and g.reason is not None)

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every reason it may not fire, in order: the state, the role, the guards."""
        found = [self.state_reason] if not self.applies else []
        if self.role.ok is False and self.role.reason:
            found.append(self.role.reason)
        return (*[r for r in found if r], *self.guard_reasons)

    @property
    def allowed(self) -> bool:
        return not self.reasons


def judge(process: Process, case: CaseSnapshot, spec: TriggerSpec, *, actor: Actor | None,
          values: Mapping[str, Any], reason: str | None, now: datetime,
          with_input: bool = True, judge_scope: bool | None = None) -> Judgement:
    """Whether `actor` may fire `spec` on `case` at `now` with this input, and why not.

    `with_input=False` leaves the guards that read the input unjudged (there is none yet).
    `judge_scope` says whether an agency lead's agency is judged; by default it is, once
    the parameter naming it is given.
    """
    definition, machine = process.definition, process.machine
    applies = machine.applies(case.state, spec.name)
    dest = machine.dest(case.state, spec.name) if applies else spec.dest
    if judge_scope is None:
        judge_scope = all(values.get(_SCOPE_PARAM[r.scope]) is not None
                          for r in spec.roles if r.scope)
    role = _role(spec, actor, case, values, judge_scope)
    ctx = GuardContext(values, reason, now, process.config, actor or SYSTEM_ACTOR,
                       definition.criteria, definition.words)
    guards = []
    for name in spec.guards:
        reads = definition.reads_input(name)
        if reads and not with_input:
            guards.append(GuardCheck(name, True, False))
        else:
            guards.append(GuardCheck(name, reads, True, definition.guards[name](case, ctx)))
    return Judgement(spec.name, spec.label, case.state, applies, tuple(spec.sources), dest,
                     role, tuple(guards), needs(spec))


def judge_all(process: Process, case: CaseSnapshot, *, actor: Actor | None,
              now: datetime) -> list[Judgement]:
    """A judgement of each trigger a person may fire from the case's state, before any
    input: allowed now, or why not (the guards that read the input appear in `needs`)."""
    found = []
    for name in process.machine.triggers_from(case.state):
        spec = process.definition.trigger(name)
        assert spec is not None
        if spec.system_only:
            continue
        found.append(judge(process, case, spec, actor=actor, values={}, reason=None,
                           now=now, with_input=False, judge_scope=False))
    return found


def _role(spec: TriggerSpec, actor: Actor | None, case: CaseSnapshot,
          values: Mapping[str, Any], judge_scope: bool) -> RoleCheck:
    wanted = tuple(role_text(r) for r in spec.roles)
    if actor is None:
        return RoleCheck(wanted, judged=False)
    refusal = role_refusal(spec, actor, case, values, judge_scope=judge_scope)
    return RoleCheck(wanted, True, refusal is None, refusal, tuple(sorted(actor.roles)),
                     judge_scope)


def role_refusal(spec: TriggerSpec, actor: Actor, case: CaseSnapshot | None,
                 values: Mapping[str, Any], *, judge_scope: bool = True) -> str | None:
    """None if `actor` may fire `spec`; otherwise the reason they may not. (For `refer`,
    which has no case yet, `case` is None.)"""
    for rule in spec.roles:
        if rule.role not in actor.roles:
            continue
        if rule.scope is None or not judge_scope:
            return None
        if rule.scope in ("param", "partner"):
            agency = values.get(_SCOPE_PARAM[rule.scope])
        else:
            action = case.action(values["action"]) if case else None
            agency = action.agency if action else None
        if actor.agency is not None and actor.agency == agency:
            return None
    wanted = " or ".join(
        f"{r.role} (of {'that' if r.scope else 'any'} agency)" if r.role == Role.AGENCY_LEAD
        else f"{r.role} (the partner named)" if r.scope == "partner"
        else str(r.role) for r in spec.roles if r.role != Role.SYSTEM
    ) or "the daemon's own role"
    return f"{actor.name} may not fire {spec.name}: it needs {wanted}"


_SCOPE_PARAM = {"param": "agency", "partner": "partner", "action": "action"}


def role_text(rule: RoleRule) -> str:
    """Who a role rule admits, in words."""
    if rule.role == Role.SYSTEM:
        return "scr itself (timed)"
    if rule.scope == "param":
        return f"{rule.role} of the agency named"
    if rule.scope == "action":
        return f"{rule.role} of the action's agency"
    if rule.scope == "partner":
        return f"{rule.role} (the partner named)"
    return str(rule.role)


def needs(spec: TriggerSpec) -> tuple[str, ...]:
    """The input a trigger takes: its parameters, and --reason where a guard wants one."""
    wanted = [p.describe() for p in spec.params]
    if spec.needs_reason:
        wanted.append("--reason")
    elif spec.needs_rationale:
        wanted.append("--reason (when the SCR criteria are not met)")
    return tuple(wanted)
