"""What TAB offers for scr's arguments, wherever scr is completed: the bash and zsh scripts
(`scr completion`, made by shtab from the parser; an argument whose values live in the
database or the definitions calls back `scr complete`) and the shell (cmd2's argparse
completion, with `values` as the completer of those arguments).

`source` says how an argument completes: argparse's own choices, a closed list its metavar
spells (`death|serious_harm|other`), files, or VALUES: case references, the triggers that
apply in the case's state, a trigger's KEY= names and their values, users, agencies. The
values are read off the process definitions (a parameter's type, choices, or its naming an
action of the case) and the database; nothing here writes, and a database that cannot be
read completes to nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shlex
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scr.lifecycle.cli.app import App
from scr.states.enums import MULTI_AGENCY, USER_ROLES
from scr.states.params import Param, PType
from scr.states.process import TriggerSpec
from scr.states.registry import Registry
from scr.storage import cases, users
from scr.storage.db import Tx, reading

LIST_TYPES = (PType.CHOICES, PType.AGENCIES, PType.THEMES)
OUTBOX_STATUSES = ("pending", "sent", "failed")
# How an argument completes (`source`), besides a closed list of words.
VALUES, FILE, DIRECTORY = "values", "file", "directory"
# Arguments whose values `values` knows, by dest (and every field `refer` takes).
VALUED = ("ref", "trigger", "params", "actor", "state", "role", "agency", "status", "themes",
          "theme")
# A text parameter that names a person, though no role is named after it (an action's
# owner). The parameter's spec should say so, as names_action does for an action; until
# states.params.Param has such a property, its name is this one word.
PERSON = "owner"


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

    def actions(self, ref: str, spec: TriggerSpec, param: Param) -> list[Candidate]:
        """The case's actions that `param` of `spec` may name: those that, named, fail none
        of the trigger's guards that hold with the parameter left out (so an action the
        trigger's guards want open, or completed, is offered only while it is)."""
        from scr.lifecycle.core.judge import judge

        def read(tx: Tx) -> list[Candidate]:
            case = cases.load(tx, ref)
            process, snapshot, now = self.app.processes.of(case), cases.snapshot(tx, case), \
                self.app.now()

            def failing(values: Mapping[str, Any]) -> set[str]:
                verdict = judge(process, snapshot, spec, actor=None, values=values,
                                reason=None, now=now)
                return {g.guard for g in verdict.guards if g.judged and g.reason}

            held = failing({})
            return [Candidate(str(a.number), f"{a.agency}, {a.status}")
                    for a in snapshot.actions if not failing({param.name: a.number}) - held]

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


def source(action: argparse.Action, registry: Registry) -> str | tuple[str, ...] | None:
    """How `action`'s values complete: None for argparse's own choices (or nothing to
    offer), a closed list of words, FILE, DIRECTORY, or VALUES (`values`, at TAB)."""
    if action.choices or action.nargs == 0:
        return None
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    if "|" in metavar:
        return tuple(metavar.split("|"))
    if metavar.islower() and metavar.isidentifier():
        return (metavar,)  # a literal word, e.g. 'retry'
    field = registry.referral_params().get(action.dest)  # a field `refer` takes
    if action.dest in VALUED or (field and field.type not in (PType.TEXT, PType.LONG_TEXT)):
        return VALUES
    if metavar == "DIR":
        return DIRECTORY
    if "FILE" in metavar.upper() or action.dest in ("file", "out", "config"):
        return FILE
    return None


def values(look: Lookup, dest: str, given: Mapping[str, Sequence[str]],
           word: str) -> list[Candidate]:
    """The candidates for `word`, a value of the argument `dest`, with the words given so
    far by dest (`given`, whose last word of `dest` is `word`)."""
    ref = next(iter(given.get("ref") or ()), None)
    if dest == "ref":
        found = look.refs()
    elif dest == "trigger":
        found = [Candidate(t.name, t.label) for t in look.triggers(ref)
                 if not t.system_only and t.sources]
    elif dest == "params":
        spec = look.trigger(ref, (given.get("trigger") or [""])[0])
        found = _params(look, spec, ref, given["params"][:-1], word) if spec else []
    elif dest == "actor":  # --as NAME
        found = look.users()
    else:
        registry = look.app.registry
        known: dict[str, Sequence[str]] = {
            "state": registry.states(referred=True),  # scr list (learning list has choices)
            "role": USER_ROLES, "agency": look.agencies, "status": OUTBOX_STATUSES,
            "themes": look.themes, "theme": look.themes,
        }
        referral = registry.referral_params()  # the fields `refer` takes
        found = [Candidate(v) for v in known[dest]] if dest in known else \
            _param_values(look, referral[dest], None, None) if dest in referral else []
    return [c for c in found if c.text.startswith(word)]


def _params(look: Lookup, spec: TriggerSpec, ref: str | None, given: Sequence[str],
            text: str) -> list[Candidate]:
    if "=" not in text:
        named = {g.partition("=")[0] for g in given}
        return [Candidate(f"{p.name}=", p.describe(), final=False) for p in spec.params
                if p.name not in named]
    key, _, value = text.partition("=")
    param = spec.param(key)
    if param is None:
        return []
    found = _param_values(look, param, spec, ref)
    if param.type not in LIST_TYPES:
        return [Candidate(f"{key}={v.text}", v.meta) for v in found]
    head, comma, _ = value.rpartition(",")
    chosen = set(head.split(",")) if comma else set()
    prefix = f"{key}={head}{comma}"
    return [Candidate(prefix + v.text, v.meta, final=False) for v in found
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
    if t is PType.CASE:  # another case of the board's
        return [c for c in look.refs() if c.text != ref]
    if param.names_action:
        return look.actions(ref, spec, param) if ref and spec else []
    if t is PType.TEXT and param.name in USER_ROLES:  # named after a role: who holds it
        return look.users(param.name)
    if t is PType.TEXT and param.name == PERSON:
        return look.users()
    return []


# ------------------------------------------------------ `scr complete`: the line as typed
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


def complete(look: Lookup, parser: argparse.ArgumentParser,
             words: Sequence[str]) -> list[Candidate]:
    """The candidates for the last of `words` (the words after `scr`), read as argparse
    reads the line: every argument's `type` is wrapped to see the words it takes, so the
    argument the last word goes to (and what was given before it) is argparse's answer.
    An option's name is not offered: the scripts complete those themselves."""
    typing = _Typing(words[-1])
    given: dict[str, list[str]] = {}
    taken: list[argparse.Action] = []

    def watch(action: argparse.Action) -> None:
        convert = action.type if callable(action.type) else lambda text: text

        def seen(text: str) -> Any:
            given.setdefault(action.dest, []).append(text)
            taken.extend([action] if text is typing else [])
            return convert(text)

        action.type = seen

    for page in parsers(parser):
        for each in page._actions:
            watch(each)
    with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
        parser.parse_known_args([*words[:-1], typing])  # an unfinished line is an error
    if not taken:
        return []
    action = taken[-1]  # a command's parser reads its words after the command's name does
    if isinstance(action, argparse._SubParsersAction):
        found = [Candidate(name, p.description or "") for name, p in action.choices.items()]
    elif action.choices:
        found = [Candidate(str(c)) for c in action.choices]
    elif (how := source(action, look.app.registry)) == VALUES:
        return values(look, action.dest, given, str(typing))
    else:
        found = [Candidate(w) for w in how] if isinstance(how, tuple) else []
    return [c for c in found if c.text.startswith(typing)]


class _Typing(str):
    """The word being typed: told from an equal word by identity."""


def parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """`parser` and every subcommand's parser under it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from parsers(sub)


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
