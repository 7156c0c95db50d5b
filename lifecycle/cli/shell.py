"""`scr shell`: the interactive admin shell (cmd2), with every `scr` command in it.

The shell builds its commands from `lifecycle.cli.main.build_parser()`, that is from every group
in `COMMAND_GROUPS`, so a command another module registers appears here with its help and
completion and nothing to add. A command opts out with `set_defaults(in_shell=False)`
(`shell` itself does). Each line is parsed by the same argparse parser as the one-shot
command and runs the same function on one App, so the database engine is opened once for
the whole session.

Errors print one `error:` line on stderr and the shell carries on; `quit` (or end of input)
leaves with status 0. Colour only at a terminal; piped, the output is the plain text of
the one-shot commands. History is kept between sessions in SCR_SHELL_HISTORY (empty: none)
or $XDG_DATA_HOME/scr/shell_history; lines carrying private free text (a summary or
evidence) are never written to it.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import functools
import json
import os
import shlex
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import cmd2
from cmd2 import CompletionItem, Completions, Statement
from cmd2.argparse_completer import ArgparseCompleter

from scr.lifecycle.cli import completion
from scr.lifecycle.cli import main as cli
from scr.lifecycle.cli.app import App, login_name
from scr.lifecycle.cli.completion import Candidate, Lookup, scan_quotes, words_to_cursor
from scr.lifecycle.settings import parse_moment
from scr.lifecycle.views import style
from scr.states.errors import InvalidInput, LifecycleError, Refused
from scr.storage import users
from scr.storage.db import reading, redact

SHELL_ONLY = {
    "as": "as NAME: act as this user from now on ('as -' for nobody; 'as' shows who)",
    "now": "now ISO|real: run as of this moment (needs SCR_ALLOW_CLOCK_OVERRIDE=1); "
           "'now' shows it",
    "help": "help [COMMAND|TRIGGER]: the commands, or one command's or trigger's help",
    "clear": "clear the screen (at a terminal; piped, it does nothing)",
    "quit": "leave the shell (also exit, or end of input)",
}


# Cursor home, then erase the screen and the terminal's scroll-back.
CLEAR_SCREEN = "\x1b[H\x1b[2J\x1b[3J"


def history_file(environ: dict[str, str] | None = None) -> Path | None:
    """Where the shell keeps its history: SCR_SHELL_HISTORY (empty: nowhere), else the XDG
    data directory."""
    env = os.environ if environ is None else environ
    if "SCR_SHELL_HISTORY" in env:
        value = env["SCR_SHELL_HISTORY"]
        return Path(value).expanduser() if value else None
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "scr" / "shell_history"


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each command's parser by name, as the command groups registered them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {name: p for name, p in action.choices.items()
                    if p.get_default("in_shell") is not False}
    return {}


class Shell(cmd2.Cmd):
    # Leave out cmd2's commands that reach outside the board's record (the OS shell, an
    # editor, Python) or would rewrite what was typed (aliases, macros, settings).
    do_shell = do_edit = do_py = do_ipy = do_run_pyscript = None  # type: ignore[assignment]
    do_set = do_shortcuts = None  # type: ignore[assignment]

    def __init__(self, app: App, *, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 history: Path | None = None) -> None:
        super().__init__(stdin=stdin, stdout=stdout, allow_cli_args=False,
                         persistent_history_file=str(history) if history else "",
                         shortcuts={"?": "help"}, terminators=[], allow_clipboard=False,
                         allow_redirection=False, include_py=False)
        # Saved when the loop ends (see run), not at interpreter exit: a test's shell must
        # not write into a temporary directory that is gone by then.
        atexit.unregister(self._persist_history)
        self.app = app
        self.look = Lookup(app)
        self.parser = cli.build_parser(registry=app.registry)
        # Free text of any of its definitions' triggers: a line carrying one is kept out of
        # the history.
        self.private = frozenset(p.name for d in app.registry
                                 for t in (d.create, *d.all_triggers)
                                 for p in t.params if p.private)
        self.commands = subcommands(self.parser)
        _as_typed_here(self.parser)
        _completing(self.parser, app)
        self.exclude_from_history = ["_eof"]
        for builtin in ("alias", "macro"):  # their subcommands need them registered
            self.disable_command(builtin, f"{builtin} is not offered in the scr shell")
        self.last_status = 0
        for name, parser in self.commands.items():
            self._install(name, parser)
        self.interactive = self.stdin.isatty() and self.stdout.isatty()
        self._refresh_prompt()

    # ------------------------------------------------------------------ commands
    def _install(self, name: str, parser: argparse.ArgumentParser) -> None:
        def run(statement: Statement) -> bool:
            self.last_status = self.execute([name, *self._words(statement)])
            return False

        def complete_command(text: str, line: str, begidx: int, endidx: int) -> Completions:
            tokens, _ = self.tokens_for_completion(line, begidx, endidx)
            return ArgparseCompleter(parser, self).complete(  # type: ignore[arg-type]
                text, line, begidx, endidx, tokens[1:])

        run.__name__ = f"do_{name}"
        run.__doc__ = parser.description or ""
        setattr(self, f"do_{name}", run)
        setattr(self, f"complete_{name}", complete_command)

    def _words(self, statement: Statement) -> list[str]:
        """The words after the command, as typed: with redirection off, '>' and '|' are
        ordinary characters (argparse refuses them unquoted) rather than silently dropped."""
        return shlex.split(statement.raw)[1:]

    def execute(self, argv: list[str]) -> int:
        """Run one command line (the words after `scr`) on the shell's App; the exit status."""
        colour = style.wanted(self.stdout)
        token = style.ENABLED.set(colour)
        try:
            args = self.parser.parse_args(argv)
            if getattr(args, "func", None) is None:
                raise InvalidInput(f"{args.command} needs an action (help {args.command})")
            output = args.func(self.app, args)
            if args.json:
                self._out(json.dumps(output.data, indent=2, ensure_ascii=False))
            elif output.text:
                self._out(style.highlight(output.text) if colour else output.text)
            return 0
        except SystemExit as exc:  # argparse's --help
            return exc.code if isinstance(exc.code, int) else 0
        except LifecycleError as exc:
            return self._error(cli._one_line(str(exc)), exc.exit_code)
        except KeyboardInterrupt:
            return self._error("interrupted; nothing was written", 130)
        except Exception as exc:  # never a traceback, and the shell carries on
            return self._error(cli._describe(exc), cli._exit_status(exc))
        finally:
            style.ENABLED.reset(token)

    def _out(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def _error(self, message: str, status: int) -> int:
        self.stdout.flush()
        label = style.error("error:") if style.wanted(sys.stderr) else "error:"
        sys.stderr.write(f"{label} {message}\n")
        sys.stderr.flush()
        return status

    def perror(self, *objects: Any, **kwargs: Any) -> None:
        """cmd2's own complaints (a quote left open, ...) as one `error:` line, like ours."""
        text = cli._one_line(" ".join(str(o) for o in objects))
        if text:
            text = text[0].lower() + text[1:]
            self.last_status = self._error(text.removeprefix("error: "), 2)

    # ------------------------------------------------------------- shell's own
    def do_as(self, statement: Statement) -> bool:
        """as NAME: act as this user from now on ('as -' for nobody; 'as' shows who). On a
        live board: record what NAME decided, as a business manager (SECURITY.md)."""
        name = " ".join(self._words(statement))
        if not name:
            self._out(f"acting as {self._who()}"
                      + (" (give as NAME)" if not self.app.settings.actor else ""))
            return False
        try:
            if name != "-":
                with reading(self.app.db()) as tx:
                    user = users.named(tx, name)
                    if not user.active:
                        raise Refused(f"user {name} is deactivated")
                    if not self.app.settings.training:  # may this login act on one's behalf?
                        self.app.actor(tx, named=name)
            self.app.settings = replace(self.app.settings, actor=None if name == "-" else name)
            self.last_status = 0
            self._out(f"acting as {self._who()}")
        except LifecycleError as exc:
            self.last_status = self._error(cli._one_line(str(exc)), exc.exit_code)
        except Exception as exc:
            self.last_status = self._error(cli._describe(exc), cli._exit_status(exc))
        self._refresh_prompt()
        return False

    def complete_as(self, text: str, line: str, begidx: int, endidx: int) -> Completions:
        """A name, quoted or not: `as Bea M` completes as `as "Bea M` does (as takes the
        rest of the line)."""
        name = " ".join(words_to_cursor(line[:endidx])[1:])
        return _completions([c for c in self.look.users() if c.text.startswith(name)],
                            cut=len(name) - len(text))

    def complete(self, text: str, line: str, begidx: int, endidx: int,
                 custom_settings: Any = None) -> Completions:
        """cmd2 quotes a word that a quote opens (`"Bea M`); a quote opened inside a word
        (`owner="Bea M`) is left to us: no second quote before it, and the one open is
        closed when a single name is chosen."""
        found = super().complete(text, line, begidx, endidx, custom_settings)
        quote = _quote_open_inside_word(line[:endidx])
        if quote and found:
            found = dataclasses.replace(found, _add_opening_quote=False, _quote_char=quote)
        return found

    def do_clear(self, statement: Statement) -> bool:
        """Clear the screen (at a terminal; piped, it does nothing)."""
        if self.stdout.isatty():
            self.stdout.write(CLEAR_SCREEN)
            self.stdout.flush()
        self.last_status = 0
        return False

    def do_now(self, statement: Statement) -> bool:
        """now ISO|real: run as of this moment (needs SCR_ALLOW_CLOCK_OVERRIDE=1)."""
        text = statement.args.strip()
        cal = self.app.settings.process.working_days
        try:
            if text == "real":
                self.app.settings = replace(self.app.settings, now=None)
            elif text:
                if os.environ.get("SCR_ALLOW_CLOCK_OVERRIDE") != "1":
                    raise InvalidInput("now is refused: set SCR_ALLOW_CLOCK_OVERRIDE=1 to run "
                                       "as of another moment (training and tests only)")
                self.app.settings = replace(self.app.settings, now=parse_moment(text, cal))
            self.last_status = 0
            moment = cal.local(self.app.now()).strftime("%a %d %b %Y %H:%M")
            kind = "set" if self.app.settings.now else "real time"
            self._out(f"now: {moment} ({kind})")
        except LifecycleError as exc:
            self.last_status = self._error(cli._one_line(str(exc)), exc.exit_code)
        self._refresh_prompt()
        return False

    def do_exit(self, statement: Statement) -> bool:
        """Leave the shell."""
        return True

    def do__eof(self, statement: Any) -> bool:  # end of input leaves quietly
        if self.interactive:
            self.stdout.write("\n")
        return True

    def default(self, statement: Statement) -> bool:
        self.last_status = self._error(
            f"unknown command {statement.command!r} (help lists the commands)", 2)
        return False

    def onecmd(self, statement: Statement | str, *, add_to_history: bool = True) -> bool:
        if isinstance(statement, Statement) and _carries_private(statement, self.private):
            add_to_history = False  # free text about a child never reaches the history file
        return super().onecmd(statement, add_to_history=add_to_history)

    # ---------------------------------------------------------------- help
    def do_help(self, statement: Statement) -> bool:  # type: ignore[override]
        """help [COMMAND|TRIGGER]: the commands, or one command's or trigger's help."""
        topic = statement.args.strip()
        if not topic:
            self._out(self._overview())
        elif topic in self.commands:
            self._out(self.commands[topic].format_help().rstrip())
        elif topic in self.app.processes.triggers_by_name():
            from scr.lifecycle.views.why import trigger_help

            self._out(trigger_help(*self.app.processes.triggers_by_name()[topic]))
        elif topic in SHELL_ONLY:
            self._out(SHELL_ONLY[topic])
        else:
            self.last_status = self._error(f"no help on {topic!r}: help lists the commands "
                                           "and triggers", 2)
        return False

    def complete_help(self, text: str, line: str, begidx: int, endidx: int) -> Completions:
        names = [Candidate(n, p.description or "") for n, p in self.commands.items()]
        triggers = self.app.processes.triggers_by_name()
        names += [Candidate(name, spec.label) for name, (_, spec) in triggers.items()]
        names += [Candidate(n, h) for n, h in SHELL_ONLY.items()]
        return _completions([c for c in names if c.text.startswith(text)])

    def _overview(self) -> str:
        width = max(len(n) for n in [*self.commands, *SHELL_ONLY]) + 2
        lines = ["Commands (help COMMAND for its options):"]
        lines += [f"  {n:<{width}}{p.description or ''}" for n, p in self.commands.items()]
        lines += ["", "In the shell:"]
        lines += [f"  {n:<{width}}{h}" for n, h in SHELL_ONLY.items()]
        lines += ["", "Triggers (help TRIGGER: what it does, who, parameters, guards):"]
        topics = self.app.processes.triggers_by_name()
        tw = max(len(name) for name in topics) + 2
        lines += [f"  {name:<{tw}}{spec.label}" for name, (_, spec) in topics.items()]
        lines += ["", "TAB completes commands, case references, triggers, KEY= names and "
                  "their values."]
        return "\n".join(lines)

    # -------------------------------------------------------------- session
    def _who(self) -> str:
        """Who the shell's commands act as: in training mode the name `as` gave; on a live
        board the login's user, and whose decision it records."""
        if self.app.settings.training:
            return self.app.settings.actor or "nobody"
        try:
            with reading(self.app.db()) as tx:
                actor = self.app.actor(tx, required=False)
        except LifecycleError:
            return f"nobody (the login {login_name()} is no user's)"
        if actor is None:
            return f"nobody (the login {login_name()} is no user's)"
        if actor.recorded_by:
            return f"{actor.recorded_by}, recording for {actor.name}"
        return actor.name

    def _refresh_prompt(self) -> None:
        actor = self.app.settings.actor or "nobody"
        if not self.app.settings.training:
            actor = self._who()
        when = ""
        if self.app.settings.now is not None:
            moment = self.app.settings.process.working_days.local(self.app.settings.now)
            when = f" @ {moment.strftime('%Y-%m-%d %H:%M')}"
        self.prompt = f"scr [{actor}{when}]> "

    def intro_text(self) -> str:
        return (f"scr shell — {self.app.settings.board.name}\n"
                f"database {redact(self.app.settings.database_url)}; acting as "
                f"{self._who()}"
                + (" (as NAME to choose)" if not self.app.settings.actor else "") + "\n"
                "help lists the commands and triggers; TAB completes; quit leaves.")


def _carries_private(statement: Statement, private: frozenset[str]) -> bool:
    """Whether the line may carry free text about a child, in any spelling: a word naming
    a private parameter, or any prefix of one (`--summ`, `summ=`, `-s`), as an option or a
    KEY=VALUE; a line that cannot be split is treated as private too."""
    try:
        words = shlex.split(statement.args)
    except ValueError:
        return True
    for word in words:
        key = word.partition("=")[0].lstrip("-").replace("-", "_").lower()
        if key and any(name.startswith(key) or key.startswith(name) for name in private) \
                and (word.startswith("-") or "=" in word):
            return True
    return False


def _as_typed_here(parser: argparse.ArgumentParser) -> None:
    """Every command's usage as it is typed in the shell: `advance REF ...`, not `scr
    advance ...` (the global options are the shell's own: `as`, `now`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.prog = sub.prog.removeprefix(f"{parser.prog} ") \
                    if parser.prog == "scr" else sub.prog.removeprefix("scr ")
                _as_typed_here(sub)


def _completing(parser: argparse.ArgumentParser, app: App) -> None:
    """cmd2's argparse completion on every command's parser: the argument's own choices,
    and for the rest what completion.source says (the values from the database or the
    definitions, a closed list of words, files)."""
    for page, action in ((p, a) for p in completion.parsers(parser) for a in p._actions):
        page.completer_class = ArgparseCompleter  # type: ignore[attr-defined]
        how = completion.source(action, app.registry)
        if how == completion.VALUES:
            action.set_completer(functools.partial(_values, dest=action.dest))  # type: ignore[attr-defined]
        elif isinstance(how, tuple):
            action.set_choices_provider(functools.partial(_words, how))  # type: ignore[attr-defined]
        elif how is not None:
            action.set_completer(functools.partial(  # type: ignore[attr-defined]
                cmd2.Cmd.path_complete,
                path_filter=os.path.isdir if how == completion.DIRECTORY else None))


def _values(shell: Shell, text: str, line: str, begidx: int, endidx: int,
            arg_tokens: dict[str, list[str]], *, dest: str) -> Completions:
    """A completer (cmd2's) of an argument whose values completion.values gives, for the
    whole word: a quote opened inside it (`owner="Bea M`) cuts `text` short."""
    word = words_to_cursor(line[:endidx])[-1]
    given = {**arg_tokens, dest: [*arg_tokens.get(dest, [""])[:-1], word]}
    found = completion.values(shell.look, dest, given, word)
    return _completions(found, cut=len(word) - len(text))


def _words(words: tuple[str, ...], shell: Shell) -> list[CompletionItem]:
    return [CompletionItem(w) for w in words]


def _quote_open_inside_word(line: str) -> str:
    """The quote left open in the last word of `line` when it opens after the word's
    start (`owner="Bea M`); '' if none is, or the word starts with it."""
    quote, opened, word_start = scan_quotes(line)
    return quote if quote and opened > word_start else ""


def _completions(candidates: list[Candidate], cut: int = 0) -> Completions:
    """The candidates as cmd2 offers them; `cut` drops the start of each, when the text
    being replaced begins inside the word (after an opening quote, or a space in a name)."""
    items = [CompletionItem(c.text[cut:], display=c.text, display_meta=c.meta)
             for c in candidates]
    final = len(candidates) != 1 or candidates[0].final
    return Completions(items=items, allow_finalization=final)


def private_file(path: Path) -> Path:
    """`path` made ready to hold the shell's history: its folder 0700, the file 0600 (made
    empty if it is not there), so that no other account reads what was typed."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    return path


def run(app: App, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """The shell's loop, until quit or the end of input; returns its exit status."""
    history = history_file()
    shell = Shell(app, stdin=stdin, stdout=stdout,
                  history=private_file(history) if history else None)
    intro = shell.intro_text() if shell.interactive else ""
    try:
        return shell.cmdloop(intro=intro)
    finally:
        shell._persist_history()
        if history is not None and history.exists():
            os.chmod(history, 0o600)
