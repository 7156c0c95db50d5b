"""`scr why` and the shell's `help TRIGGER`: a trigger explained from the process definition.

`explain` judges one trigger on one case now, the way the engine would when firing it, but
reports every check instead of stopping at the first refusal: the state, each parameter
given or missing, the role, every guard (those that read the input too, judged on the input
given) and, where a decision is made, the SCR criteria assessment. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from scr.lifecycle.core.engine import REASON_MAX, parse_input
from scr.lifecycle.core.judge import judge, role_text
from scr.lifecycle.core.process import Process, Processes
from scr.states.case import Actor, CaseSnapshot
from scr.states.config import ProcessConfig
from scr.states.errors import InvalidInput, NotFound
from scr.states.params import REASON_CAUTION, Param, clean_text
from scr.states.process import ProcessDefinition, TriggerSpec
from scr.storage import cases
from scr.storage.db import Tx


def trigger_spec(definition: ProcessDefinition, name: str) -> TriggerSpec:
    """The trigger called `name` in `definition`; NotFound (exit 2) if there is none."""
    spec = definition.trigger(name)
    if spec is None:
        raise NotFound(f"unknown trigger {name!r} (scr diagram or help in the shell lists them)")
    return spec


def explain(tx: Tx, processes: Processes, ref: str, trigger: str, *,
            actor: Actor | None, params: Mapping[str, str], reason: str | None,
            now: datetime) -> dict[str, Any]:
    """Every check `trigger` must pass on case `ref` at `now`, and the overall verdict."""
    case = cases.load(tx, ref)
    process = processes.of(case)
    spec = trigger_spec(process.definition, trigger)
    if spec is process.definition.create:
        raise InvalidInput(f"{trigger} creates a case; there is no case to judge it on")
    snapshot = cases.snapshot(tx, case)
    values, param_checks = judge_params(spec, params, process.config, now, snapshot)
    clean_reason = clean_text(reason, "reason", REASON_MAX, multiline=True) if reason else None
    verdict = judge(process, snapshot, spec, actor=actor, values=values, reason=clean_reason,
                    now=now)
    state_reason = [verdict.state_reason] if verdict.state_reason else []
    role = verdict.role
    reasons: list[str] = state_reason + [c["reason"] for c in param_checks if not c["ok"]]
    if role.ok is False and role.reason:
        reasons.append(role.reason)
    reasons += verdict.guard_reasons
    return {
        "ref": case.ref, "pseudonym": case.pseudonym, "trigger": spec.name,
        "label": spec.label, "state": snapshot.state, "applies": verdict.applies,
        "dest": verdict.dest, "allowed": not reasons, "reasons": reasons,
        "actor": actor.name if actor else None, "at": now.isoformat(),
        "definition": case.definition, "definition_version": case.definition_version,
        "params": param_checks, "reason_given": bool(clean_reason),
        "role": _role_doc(verdict.role),
        "guards": [{"guard": g.guard, "reads_input": g.reads_input, "holds": g.holds,
                    "reason": g.reason} for g in verdict.guards],
        "criteria": process.definition.assess(snapshot.referred).as_dict()
        if criteria_matter(spec) else None,
        "needs": list(verdict.needs), "timed": spec.timed,
    }


def criteria_matter(spec: TriggerSpec) -> bool:
    """A decision is made with it, and not by the daemon: the criteria are shown."""
    return spec.criteria and not spec.system_only and bool(spec.sources)


def _role_doc(role: Any) -> dict[str, Any]:
    if not role.judged:
        return {"judged": False, "ok": None, "reason": None, "roles": list(role.roles)}
    return {"judged": True, "ok": role.ok, "reason": role.reason, "roles": list(role.roles),
            "actor_roles": list(role.actor_roles), "scope_judged": role.scope_judged}


def judge_params(spec: TriggerSpec, raw: Mapping[str, str], config: ProcessConfig,
                 now: datetime, view: CaseSnapshot | None
                 ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Each parameter parsed on its own, so that one bad value does not hide the others;
    `view` is the case's (None for the trigger that opens one: it has no actions yet).

    Returns the values the guards will see (None for what is missing or malformed) and a
    check per parameter given or required. Private free text is never echoed.
    """
    values, problems = parse_input(config, spec, raw, now, view)
    known = {p.name for p in spec.params}
    checks = [_check(key, True, False, None, problems[key]) for key in raw if key not in known]
    for p in spec.params:
        if p.name in problems:
            checks.append(_check(p.name, p.name in raw, False, None, problems[p.name]))
        elif p.name in raw:
            shown = "given; private" if p.private else display(values[p.name])
            checks.append(_check(p.name, True, True, shown, None))
    return values, checks


def display(value: Any) -> str:
    """A parsed value as a person typed it: lists comma-separated, dates ISO, yes/no."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _check(name: str, given: bool, ok: bool, value: str | None,
           reason: str | None) -> dict[str, Any]:
    return {"param": name, "given": given, "ok": ok, "value": value, "reason": reason}


# ---------------------------------------------------------------------------- text
def explain_text(doc: dict[str, Any], when: str) -> str:
    verdict = "allowed" if doc["allowed"] else "refused"
    role = doc["role"]
    if doc["allowed"] and not role["judged"]:
        verdict += " (the role is not checked: give --as NAME, or 'as NAME' in the shell)"
    dest = f"{doc['state']} → {doc['dest']}" if doc["dest"] else f"stays in {doc['state']}"
    lines = [
        f"{doc['ref']}  {doc['pseudonym']}: why {doc['trigger']} ({doc['label']})",
        f"  verdict    {verdict}",
        f"  as of      {when}" + (f", as {doc['actor']}" if doc["actor"] else ""),
        f"  state      {dest}: " + ("applies" if doc["applies"] else "does not apply"),
    ]
    if role["judged"]:
        outcome = "holds" if role["ok"] else f"fails: {role['reason']}"
        lines.append(f"  role       {' or '.join(role['roles'])}: {outcome}")
    else:
        lines.append(f"  role       {' or '.join(role['roles'])}")
    if doc["params"]:
        lines.append("  parameters")
        for c in doc["params"]:
            outcome = f"holds ({c['value']})" if c["ok"] else f"fails: {c['reason']}"
            lines.append(f"    {c['param']:<26}{outcome}")
    if doc["guards"]:
        lines.append("  guards")
        for g in doc["guards"]:
            outcome = "holds" if g["holds"] else f"fails: {g['reason']}"
            lines.append(f"    {g['guard']:<34}{outcome}")
    if doc["criteria"] is not None:
        lines.append("  criteria   " + "; ".join(doc["criteria"]["reasons"]))
    if doc["needs"]:
        lines.append("  needs      " + "; ".join(doc["needs"]))
    return "\n".join(lines)


def trigger_help(process: Process, spec: TriggerSpec) -> str:
    """What a trigger does, who may fire it, what it takes and what must hold, for `help`:
    the same rules the judge weighs (lifecycle/core/judge.py), from the definition."""
    definition = process.definition
    create = spec is definition.create
    move = (f"{', '.join(spec.sources)} → {spec.dest}" if spec.dest
            else f"in {', '.join(spec.sources)} (records; the state does not change)")
    if create:
        move = f"creates a case in {spec.dest} (use the refer command)"
    lines = [f"{spec.name} — {spec.label}", ""]
    if spec.help:
        lines.append(f"  {spec.help}")
    lines.append(f"  moves      {move}")
    lines.append("  who        " + " or ".join(role_text(r) for r in spec.roles))
    if spec.timed:
        lines.append("  timed      scr fires it itself when its timer falls due")
    if spec.params:
        lines.append("  parameters (KEY=VALUE; lists comma-separated)")
        lines.extend(_param_line(p) for p in spec.params)
    if spec.guards:
        lines.append("  guards     (refused unless every one holds)")
        lines.extend(f"    {g.replace('_', ' ')}" + (" (judged on the input)"
                                                    if definition.reads_input(g) else "")
                     for g in spec.guards)
    if spec.needs_reason:
        lines.append(f"  reason     required: --reason TEXT [{REASON_CAUTION}]")
    tells = ["every business manager", *(definition.recipients[s] for s in spec.notify)]
    lines.append("  e-mails    " + "; ".join(dict.fromkeys(tells)))
    arms = [t.label for t in process.machine.entering(spec.dest, spec.name)] \
        if spec.dest and not spec.internal else []
    arms += [t.label for t in definition.timers if spec.name in t.arm_on]
    if arms:
        lines.append("  arms       " + "; ".join(dict.fromkeys(arms)))
    if criteria_matter(spec):
        lines.append("  criteria   the criteria assessment is shown (scr why REF "
                     f"{spec.name})")
    if not create and not spec.system_only:
        lines.append(f"  usage      advance REF {spec.name}"
                     + "".join(f" {p.name}=…" for p in spec.params if p.required)
                     + (" --reason TEXT" if spec.needs_reason else ""))
    return "\n".join(lines)


def _param_line(p: Param) -> str:
    text = f"    {p.describe()}"
    if p.help:
        text += f": {p.help}"
    if p.free_text:
        text += f" [{p.caution()}]"
    if p.private:
        text += " [private: never e-mailed, logged or kept in history]"
    return text
