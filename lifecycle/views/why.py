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

from sqlmodel import Session

from lifecycle.core.engine import REASON_MAX, Engine
from lifecycle.core.snapshot import snapshot
from states.case import SYSTEM_ACTOR, Actor, CaseView, GuardContext
from states.config import ProcessConfig
from states.criteria import assess
from states.definition import CREATE_TRIGGER, RECIPIENTS, TRIGGER_BY_NAME, TriggerSpec
from states.enums import Role, State
from states.errors import InvalidInput, NotFound
from states.guards import GUARDS, INPUT_GUARDS
from states.params import Param, PType, clean_text, parse_params
from states.timers import ENTER, TIMERS
from storage import queries


def trigger_spec(name: str) -> TriggerSpec:
    """The trigger called `name`; NotFound (exit 2) if there is none."""
    spec = TRIGGER_BY_NAME.get(name)
    if spec is None:
        raise NotFound(f"unknown trigger {name!r} (scr diagram or help in the shell lists them)")
    return spec


def criteria_matter(spec: TriggerSpec) -> bool:
    """Decisions are made here: the recommendation and every trigger of the chair's decision."""
    if all(r.role == Role.SYSTEM for r in spec.roles):
        return False
    return spec.name == "recommend" or State.CHAIR_DECISION in spec.sources


def explain(session: Session, config: ProcessConfig, ref: str, trigger: str, *,
            actor: Actor | None, params: Mapping[str, str], reason: str | None,
            now: datetime) -> dict[str, Any]:
    """Every check `trigger` must pass on case `ref` at `now`, and the overall verdict."""
    spec = trigger_spec(trigger)
    if spec.name == CREATE_TRIGGER:
        raise InvalidInput("refer creates a case; there is no case to judge it on")
    case = queries.case_by_ref(session, ref)
    view = snapshot(session, case)
    applies = view.state in spec.sources
    values, param_checks = judge_params(spec, params, config, now, view)
    clean_reason = clean_text(reason, "reason", REASON_MAX, multiline=True) if reason else None
    role = _judge_role(spec, actor, view, values)
    ctx = GuardContext(values, clean_reason, now, config, actor or SYSTEM_ACTOR)
    guards: list[dict[str, Any]] = []
    for name in spec.guards:
        refusal = GUARDS[name](view, ctx)
        guards.append({"guard": name, "reads_input": name in INPUT_GUARDS,
                       "holds": refusal is None, "reason": refusal})
    reasons: list[str] = [] if applies else [
        f"{spec.name} does not apply in state {view.state} (it applies in "
        f"{', '.join(spec.sources)})"]
    reasons += [c["reason"] for c in param_checks if not c["ok"]]
    if role["ok"] is False:
        reasons.append(role["reason"])
    reasons += [g["reason"] for g in guards if not g["holds"]]
    return {
        "ref": case.ref, "pseudonym": case.pseudonym, "trigger": spec.name,
        "label": spec.label, "state": view.state.value, "applies": applies,
        "dest": spec.dest.value if spec.dest else None, "allowed": not reasons,
        "reasons": reasons, "actor": actor.name if actor else None, "at": now.isoformat(),
        "params": param_checks, "reason_given": bool(clean_reason), "role": role,
        "guards": guards,
        "criteria": assess(view.referral).as_dict() if criteria_matter(spec) else None,
        "needs": list(Engine.needs(spec)), "timed": spec.timed,
    }


def judge_params(spec: TriggerSpec, raw: Mapping[str, str], config: ProcessConfig,
                 now: datetime, view: CaseView) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Each parameter parsed on its own, so that one bad value does not hide the others.

    Returns the values the guards will see (None for what is missing or malformed) and a
    check per parameter given or required. Private free text is never echoed.
    """
    known = {p.name: p for p in spec.params}
    values: dict[str, Any] = {}
    checks: list[dict[str, Any]] = []
    for key in raw:
        if key not in known:
            expected = ", ".join(known) or "none"
            checks.append(_check(key, True, False, None,
                                 f"unknown parameter {key!r} (expected: {expected})"))
    today = config.calendar.local_date(now)
    for p in spec.params:
        if p.name not in raw:
            values[p.name] = None if p.required else p.default
            if p.required:
                checks.append(_check(p.name, False, False, None,
                                     f"missing parameter {p.describe()}"))
            continue
        try:
            value = parse_params([p], {p.name: raw[p.name]}, agencies=config.agencies,
                                 today=today, context=spec.name)[p.name]
        except InvalidInput as exc:
            values[p.name] = None
            checks.append(_check(p.name, True, False, None, str(exc)))
            continue
        if p.type is PType.INT and p.name == "action" and view.action(value) is None:
            values[p.name] = None
            checks.append(_check(p.name, True, False, str(value),
                                 f"{view.ref} has no action {value}"))
            continue
        values[p.name] = value
        shown = "given; private" if p.private else display(value)
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


def _judge_role(spec: TriggerSpec, actor: Actor | None, view: CaseView,
                values: Mapping[str, Any]) -> dict[str, Any]:
    wanted = [_role_text(r.role, r.scope) for r in spec.roles]
    if actor is None:
        return {"judged": False, "ok": None, "reason": None, "roles": wanted}
    scoped = [r.scope for r in spec.roles if r.scope]
    # An agency lead's scope can only be judged once the agency or action is named.
    judge_scope = not scoped or all(
        values.get("agency" if s == "param" else "action") is not None for s in scoped)
    refusal = Engine._role_refusal(spec, actor, view, values, judge_scope=judge_scope)
    return {"judged": True, "ok": refusal is None, "reason": refusal, "roles": wanted,
            "actor_roles": sorted(actor.roles), "scope_judged": judge_scope}


def _role_text(role: str, scope: str | None) -> str:
    if role == Role.SYSTEM:
        return "scr itself (timed)"
    if scope == "param":
        return f"{role} of the agency named"
    if scope == "action":
        return f"{role} of the action's agency"
    return str(role)


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


def trigger_help(spec: TriggerSpec, config: ProcessConfig) -> str:
    """What a trigger does, who may fire it, what it takes and what must hold, for `help`."""
    move = (f"{', '.join(spec.sources)} → {spec.dest}" if spec.dest
            else f"in {', '.join(spec.sources)} (records; the state does not change)")
    if spec.name == CREATE_TRIGGER:
        move = f"creates a case in {spec.dest} (use the refer command)"
    lines = [f"{spec.name} — {spec.label}", ""]
    if spec.help:
        lines.append(f"  {spec.help}")
    lines.append(f"  moves      {move}")
    lines.append("  who        " + " or ".join(_role_text(r.role, r.scope) for r in spec.roles))
    if spec.timed:
        lines.append("  timed      scr fires it itself when its timer falls due")
    if spec.params:
        lines.append("  parameters (KEY=VALUE; lists comma-separated)")
        lines.extend(_param_line(p) for p in spec.params)
    if spec.guards:
        lines.append("  guards     (refused unless every one holds)")
        lines.extend(f"    {g.replace('_', ' ')}" + (" (judged on the input)"
                                                    if g in INPUT_GUARDS else "")
                     for g in spec.guards)
    if "reason_given" in spec.guards:
        lines.append("  reason     required: --reason TEXT")
    tells = ["every business manager", *(RECIPIENTS[s] for s in spec.notify)]
    lines.append("  e-mails    " + "; ".join(dict.fromkeys(tells)))
    arms = [t.label for t in TIMERS if spec.dest == t.state and ENTER in t.arm_on
            and (not t.enter_via or spec.name in t.enter_via)]
    arms += [t.label for t in TIMERS if spec.name in t.arm_on]
    if arms:
        lines.append("  arms       " + "; ".join(dict.fromkeys(arms)))
    if criteria_matter(spec):
        lines.append("  criteria   the SCR criteria assessment is shown (scr why REF "
                     f"{spec.name})")
    if spec.name != CREATE_TRIGGER and any(r.role != Role.SYSTEM for r in spec.roles):
        lines.append(f"  usage      advance REF {spec.name}"
                     + "".join(f" {p.name}=…" for p in spec.params if p.required)
                     + (" --reason TEXT" if "reason_given" in spec.guards else ""))
    return "\n".join(lines)


def _param_line(p: Param) -> str:
    text = f"    {p.describe()}"
    if p.help:
        text += f": {p.help}"
    if p.private:
        text += " [private: never e-mailed, logged or kept in history]"
    return text
