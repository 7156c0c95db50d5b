"""Tab completion for the shell, read off each command's argparse parser and the process
definition, so a command another module adds later completes without code here.

Positionals complete by their `dest`: `ref` to case references, `trigger` to the triggers
that apply in that case's state, `params` (KEY=VALUE) to the trigger's parameter names and
then to their values where the list is closed (choices, agencies, booleans, the case's
actions, users). Options complete to their choices, a `a|b|c` metavar, or well-known lists
by `dest` (state, role, agency, status). Nothing here writes; a database that cannot be read
completes to nothing.
"""

from __future__ import annotations

import argparse
import glob
import os
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from scr.lifecycle.cli.app import App
from scr.states.enums import MULTI_AGENCY, USER_ROLES, Role
from scr.states.params import Param, PType
from scr.states.process import TriggerSpec
from scr.storage import cases, facts, users
from scr.storage.db import Tx, reading

LIST_TYPES = (PType.CHOICES, PType.AGENCIES, PType.THEMES)
OUTBOX_STATUSES = ("pending", "sent", "failed")


@dataclass(frozen=True)
class Candidate:
    text: str
    meta: str = ""
    final: bool = True  # the word is complete: a space may follow


class Lookup:
    """What completion needs from the database, read on demand; errors read as nothing."""

    def __init__(self, app: App) -> None:
        self.app = app

    def _read(self, fn: Callable[[Tx], Any], default: Any) -> Any:
        try:
            with reading(self.app.db()) as tx:
                return fn(tx)
        except Exception:  # completion must never disturb the prompt
            return default

    def refs(self) -> list[Candidate]:
        return self._read(lambda tx: [Candidate(ref, f"{state} · {pseudonym}")
                                      for ref, pseudonym, state in cases.refs(tx)], [])

    def triggers(self, ref: str | None) -> list[TriggerSpec]:
        """The triggers that apply to the case now (under its definition); without a case,
        every trigger of the definition new cases start under."""
        def read(tx: Tx) -> list[TriggerSpec]:
            case = cases.load(tx, ref or "")
            process = self.app.processes.of(case)
            found = (process.definition.trigger(n)
                     for n in process.machine.triggers_from(case.state))
            return [t for t in found if t is not None]

        every = list(self.app.processes.starting().definition.all_triggers)
        return self._read(read, every) if ref else every

    def trigger(self, ref: str | None, name: str) -> TriggerSpec | None:
        """The trigger called `name` in the case's definition (or the starting one)."""
        def read(tx: Tx) -> TriggerSpec | None:
            return self.app.processes.of(cases.load(tx, ref or "")).definition.trigger(name)

        fallback = self.app.processes.starting().definition.trigger(name)
        return self._read(read, fallback) if ref else fallback

    def actions(self, ref: str | None) -> list[tuple[int, str, str]]:
        if not ref:
            return []

        def read(tx: Tx) -> list[tuple[int, str, str]]:
            case = cases.load(tx, ref)
            return [(a.number, a.agency, a.status) for a in facts.actions(tx, case.id)]

        return self._read(read, [])

    def users(self, role: str | None = None) -> list[Candidate]:
        def read(tx: Tx) -> list[Candidate]:
            people = users.with_role(tx, role) if role else [
                u for u in users.every(tx) if u.active]
            return [Candidate(u.name, u.agency or "") for u in people]

        return self._read(read, [])

    @property
    def agencies(self) -> tuple[str, ...]:
        return self.app.settings.process.agencies

    @property
    def themes(self) -> tuple[str, ...]:
        return self.app.settings.process.themes

    def today(self) -> str:
        return self.app.settings.process.working_days.local_date(self.app.now()).isoformat()


def words_to_cursor(line: str) -> list[str]:
    """The words of `line` as a command will read them, the last being the one the cursor
    is in ('' after a space); a quote left open is taken as closed."""
    for closing in ("", '"', "'"):
        try:
            words = shlex.split(line + closing)
        except ValueError:
            continue
        if not closing and (not words or line[-1:].isspace()):
            words.append("")
        return words or [""]
    return [""]


def complete(look: Lookup, parser: argparse.ArgumentParser, words: Sequence[str],
             text: str) -> list[Candidate]:
    """Candidates for `text`, the word being typed after `words` (the command's own words)."""
    return [c for c in _complete(look, parser, list(words), text) if c.text.startswith(text)]


def _complete(look: Lookup, parser: argparse.ArgumentParser, words: list[str],
              text: str) -> list[Candidate]:
    positionals = [a for a in parser._actions if not a.option_strings]
    options = {s: a for a in parser._actions for s in a.option_strings}
    seen: dict[str, list[str]] = {}
    used: set[argparse.Action] = set()
    index, pending = 0, None
    for i, word in enumerate(words):
        if pending is not None:
            pending = None
            continue
        if word.startswith("-") and len(word) > 1:
            name, eq, _ = word.partition("=")
            action = options.get(name)
            if action is not None:
                used.add(action)
                if action.nargs != 0 and not eq:
                    pending = action
            continue
        if index >= len(positionals):
            continue
        action = positionals[index]
        if isinstance(action, argparse._SubParsersAction):
            chosen = action.choices.get(word)
            return _complete(look, chosen, words[i + 1:], text) if chosen else []
        seen.setdefault(action.dest, []).append(word)
        if action.nargs not in ("*", "+", argparse.REMAINDER):
            index += 1
    if pending is not None:
        return _option_values(look, pending, text)
    if text.startswith("-"):
        return [Candidate(s, a.help or "") for s, a in options.items()
                if s.startswith("--") and (a not in used or isinstance(a, argparse._AppendAction))]
    if index >= len(positionals):
        return []
    return _positional_values(look, positionals[index], seen, text)


def _positional_values(look: Lookup, action: argparse.Action, seen: dict[str, list[str]],
                       text: str) -> list[Candidate]:
    if isinstance(action, argparse._SubParsersAction):
        return [Candidate(name, p.description or "") for name, p in action.choices.items()]
    ref = seen["ref"][0] if seen.get("ref") else None
    if action.dest == "ref":
        return look.refs()
    if action.dest == "trigger":
        return _triggers(look.triggers(ref))
    if action.dest == "params":
        spec = look.trigger(ref, (seen.get("trigger") or [""])[0])
        return _params(look, spec, ref, seen.get("params", []), text) if spec else []
    if action.choices:
        return [Candidate(str(c)) for c in action.choices]
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    if metavar and metavar.islower() and metavar.isidentifier():
        return [Candidate(metavar, action.help or "")]  # a literal word, e.g. 'retry'
    return []


def _triggers(specs: Sequence[TriggerSpec]) -> list[Candidate]:
    return [Candidate(t.name, t.label) for t in specs if not t.system_only and t.sources]


def _params(look: Lookup, spec: TriggerSpec, ref: str | None, given: list[str],
            text: str) -> list[Candidate]:
    if "=" not in text:
        named = {g.partition("=")[0] for g in given}
        return [Candidate(f"{p.name}=", p.describe(), final=False) for p in spec.params
                if p.name not in named]
    key, _, value = text.partition("=")
    param = spec.param(key)
    if param is None:
        return []
    values = _param_values(look, param, spec, ref)
    if param.type not in LIST_TYPES:
        return [Candidate(f"{key}={v.text}", v.meta) for v in values]
    head, comma, _ = value.rpartition(",")
    chosen = set(head.split(",")) if comma else set()
    prefix = f"{key}={head}{comma}"
    return [Candidate(prefix + v.text, v.meta, final=False) for v in values
            if v.text not in chosen]


def _param_values(look: Lookup, param: Param, spec: TriggerSpec | None,
                  ref: str | None) -> list[Candidate]:
    t = param.type
    if t in (PType.CHOICE, PType.CHOICES):
        return [Candidate(c) for c in param.choices]
    if t in (PType.AGENCY, PType.AGENCIES):
        extra = (MULTI_AGENCY,) if param.multi_agency else ()
        return [Candidate(a) for a in (*look.agencies, *extra)]
    if t is PType.THEMES:
        return [Candidate(theme) for theme in look.themes]
    if t is PType.BOOL:
        return [Candidate("true"), Candidate("false")]
    if t is PType.DATE:
        return [Candidate(look.today(), "today")]
    if param.names_action:
        wanted = {"complete_action": "open", "sign_off_action": "completed"}.get(
            spec.name if spec else "")
        return [Candidate(str(n), f"{agency}, {status}") for n, agency, status
                in look.actions(ref) if wanted is None or status == wanted]
    if param.name == "lead_reviewer":
        return look.users(Role.LEAD_REVIEWER)
    if param.name == "owner":
        return look.users()
    return []


def _option_values(look: Lookup, action: argparse.Action, text: str) -> list[Candidate]:
    if action.choices:
        return [Candidate(str(c)) for c in action.choices]
    dest = action.dest
    known: dict[str, Sequence[str]] = {
        "state": look.app.registry.states(referred=True),  # scr list (learning list has its own)
        "role": USER_ROLES, "agency": look.agencies,
        "status": OUTBOX_STATUSES, "themes": look.themes, "theme": look.themes,
    }
    if dest in known:
        return [Candidate(v) for v in known[dest]]
    if dest == "actor":  # --as NAME
        return look.users()
    referral = look.app.registry.referral_params()  # the fields `refer` takes
    if dest in referral:
        return _param_values(look, referral[dest], None, None)
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    if "|" in metavar:
        return [Candidate(v) for v in metavar.split("|")]
    if "FILE" in metavar.upper() or dest in ("file", "out", "config"):
        return _paths(text)
    return []


def _paths(text: str) -> list[Candidate]:
    """Files and directories that start with what has been typed."""
    found = []
    for path in sorted(glob.glob(glob.escape(text) + "*")):
        is_dir = os.path.isdir(path)
        found.append(Candidate(path + ("/" if is_dir else ""), final=not is_dir))
    return found


def scan_quotes(line: str) -> tuple[str, int, int]:
    """How `line` ends, as a shell reads it: the quote left open ('' if none), where it was
    opened, and where the last word starts (quotes and backslashes kept in it)."""
    quote, opened, word_start, i = "", 0, 0, 0
    while i < len(line):
        char = line[i]
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"':
                i += 1
        elif char in "\"'":
            quote, opened = char, i
        elif char == "\\":
            i += 1
        elif char.isspace():
            word_start = i + 1
        i += 1
    return quote, opened, word_start

