"""`scr`, the command line (README.md, "Commands").

Errors are one line on stderr beginning `error:` with its exit status (2 bad
input, 3 refused, 4 conflict); nothing is written when a command fails, and no traceback
ever reaches a user.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import Any, NoReturn

from scr.states.errors import Conflict, InvalidInput, LifecycleError, Refused
from scr.states.migration import Migration
from scr.states.registry import REGISTRY, Registry

EXIT_INTERNAL = 1
# Modules that add commands: each has `add_commands(command)`, where `command(name, help)`
# returns a sub-parser whose defaults name the function to run (`func`).
COMMAND_GROUPS = ("scr.lifecycle.cli.records", "scr.lifecycle.cli.audit",
                  "scr.lifecycle.cli.users", "scr.lifecycle.cli.cases",
                  "scr.lifecycle.cli.learning", "scr.lifecycle.cli.outbox",
                  "scr.lifecycle.cli.running", "scr.lifecycle.cli.inspect",
                  "scr.lifecycle.cli.about", "scr.lifecycle.demo", "scr.lifecycle.cli.helping")
# Where each command lives, so that a one-shot command imports its own group alone (the
# rest would cost a fresh process a tenth of a second). The shell, --help and anything
# unknown build every group; tests/cli/test_shell.py checks this table against them.
COMMAND_HOMES = {
    **dict.fromkeys(("init", "backup", "restore"), "scr.lifecycle.cli.records"),
    "audit": "scr.lifecycle.cli.audit",
    "users": "scr.lifecycle.cli.users",
    **dict.fromkeys(("refer", "advance", "show", "history", "triggers", "list", "cases"),
                    "scr.lifecycle.cli.cases"),
    **dict.fromkeys(("learning", "qa"), "scr.lifecycle.cli.learning"),
    "outbox": "scr.lifecycle.cli.outbox",
    **dict.fromkeys(("tick", "daemon", "web"), "scr.lifecycle.cli.running"),
    **dict.fromkeys(("why", "timeline", "overdue", "report", "diagram", "definitions",
                     "shell"), "scr.lifecycle.cli.inspect"),
    "demo": "scr.lifecycle.demo",
    **dict.fromkeys(("version", "example"), "scr.lifecycle.cli.about"),
    **dict.fromkeys(("help", "completion", "complete"), "scr.lifecycle.cli.helping"),
}
_GLOBAL_WITH_VALUE = ("--as", "--now", "--config")


class _Parser(argparse.ArgumentParser):
    """argparse that reports misuse as one `error:` line and exit status 2, and takes only
    whole option names: an abbreviation (`--summ` for `--summary`) is an error, so no
    spelling of a private option slips past the checks that keep it out of the shell's
    history."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise InvalidInput(message)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON document")


class Commands:
    """What each group of commands adds its commands with: calling it makes a command's
    parser (with --json); `registry` holds the process definitions the commands offer
    (their choices and the referral's options)."""

    def __init__(self, sub: Any, registry: Registry) -> None:
        self._sub = sub
        self.registry = registry

    def __call__(self, name: str, helptext: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = self._sub.add_parser(name, help=helptext,
                                                          description=helptext)
        add_json_option(p)
        return p


def build_parser(command_word: str | None = None,
                 registry: Registry = REGISTRY) -> argparse.ArgumentParser:
    """The parser of every command, or of the group `command_word` belongs to alone, for
    the definitions in `registry` (the shipped ones, unless a caller composes others)."""
    parser = _Parser(prog="scr", description="Case review lifecycle orchestrator for "
                     "safeguarding children partnerships.")
    parser.add_argument("--as", dest="actor", metavar="NAME",
                        help="the acting user (or SCR_ACTOR)")
    parser.add_argument("--now", metavar="ISO", help="run as of this moment (or SCR_NOW); "
                        "refused unless SCR_ALLOW_CLOCK_OVERRIDE=1")
    parser.add_argument("--config", metavar="FILE", help="TOML configuration (or SCR_CONFIG)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--version", action="version", version=_version(),
                        help="print the version and exit (scr version --json says more)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    command = Commands(sub, registry)
    home = COMMAND_HOMES.get(command_word or "")
    for group in COMMAND_GROUPS:
        if home is None or group == home:
            import_module(group).add_commands(command)
    return parser


def _version() -> str:
    from scr.lifecycle import about

    return f"scr {about.version()} ({about.DISTRIBUTION})"


def _words_after_command(argv: Sequence[str]) -> list[str]:
    """The words that follow the command, options and their values left out (as far as
    they can be told apart without the command's parser: enough for a reference and a
    trigger)."""
    words = list(argv)
    command = command_word(words)
    if command is None:
        return []
    rest = words[words.index(command) + 1:]
    found, skip = [], False
    for word in rest:
        if skip:
            skip = False
        elif word in _GLOBAL_WITH_VALUE or word in ("--reason", "--if-version", "--file"):
            skip = True
        elif not word.startswith("-"):
            found.append(word)
    return found


def command_word(argv: Sequence[str]) -> str | None:
    """The command named in `argv`, past the global options; None if there is none yet."""
    words = iter(argv)
    for word in words:
        if word in _GLOBAL_WITH_VALUE:
            next(words, None)
        elif word.startswith("-"):
            if word in ("-h", "--help", "--version"):
                return None
        else:
            return word
    return None


def run(argv: Sequence[str], *, registry: Registry = REGISTRY,
        migrations: tuple[Migration, ...] | None = None) -> int:
    """Parse and run one command; returns the exit status. Errors are printed here. The
    process definitions and the migrations between their versions are the shipped ones
    unless a caller composes others (a test's throwaway version)."""
    from scr.lifecycle.cli.app import App
    from scr.lifecycle.settings import load

    app = None
    try:
        _require_utf8(argv)
        args = build_parser(command_word(argv), registry).parse_args(list(argv))
        if args.command is None:
            raise InvalidInput("a command is needed (scr --help lists them)")
        _configure_logging()
        settings = load(config_file=args.config, actor=args.actor, now=args.now)
        app = App(settings, registry, migrations)
        if getattr(args, "func", None) is None:
            raise InvalidInput(f"{args.command} needs an action (scr {args.command} --help)")
        output = args.func(app, args)
        if args.json:
            print(json.dumps(output.data, indent=2, ensure_ascii=False))
        elif output.text:
            print(output.text)
        return 0
    except LifecycleError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        if _wants_json(argv):
            print(json.dumps(error_document(exc), indent=2, ensure_ascii=False))
        _log_failure(argv, exc)
        return exc.exit_code
    except BrokenPipeError:
        # The reader went away (`scr list | head`): not an error, and nothing more to say.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("error: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback to a user
        print(f"error: {_describe(exc)}", file=sys.stderr)
        return _exit_status(exc)
    finally:
        if app is not None:
            app.close()


def _wants_json(argv: Sequence[str]) -> bool:
    """Whether the command asked for JSON: `--json` as a word before any `--`."""
    words = list(argv)
    return "--json" in (words[:words.index("--")] if "--" in words else words)


def error_document(exc: LifecycleError) -> dict[str, Any]:
    """What a script reads of a failed command: the message, the exit status, every reason
    (a refusal lists them all), and for a conflict the version the case is at now."""
    doc: dict[str, Any] = {"error": _one_line(str(exc)), "status": exc.exit_code,
                           "reasons": list(getattr(exc, "reasons", ()) or [_one_line(str(exc))])}
    if isinstance(exc, Conflict):
        doc["version"] = exc.version
    return doc


def _log_failure(argv: Sequence[str], exc: LifecycleError) -> None:
    """A refusal, conflict or bad input is logged too (SCR_LOG_FILE, or the system log):
    the command and the exit status, the case and trigger when the command names them,
    and a refusal's reasons, which the process definition wrote. Bad input's message is not
    logged: it may repeat what was typed."""
    from scr.lifecycle import log

    command = command_word(argv)
    fields: dict[str, Any] = {"command": command, "status": exc.exit_code,
                              "error": type(exc).__name__}
    after = _words_after_command(argv)
    if command in ("advance", "why", "show", "history", "triggers", "timeline") and after:
        fields["case_ref"] = after[0][:40]
        if command in ("advance", "why") and len(after) >= 2:
            fields["trigger"] = after[1][:40]
    if isinstance(exc, Refused):
        fields["reasons"] = list(exc.reasons)
    event = {2: "command.invalid", 3: "command.refused", 4: "command.conflict"}.get(
        exc.exit_code, "command.failed")
    # A log that cannot be written must not hide the error itself.
    with contextlib.suppress(Exception):
        log.command_failed(event, **fields)


def _configure_logging() -> None:
    """One-shot commands log JSON events to SCR_LOG_FILE when it is set; otherwise only
    warnings reach stderr, so a command's output stays its own."""
    import logging
    import os

    from scr.lifecycle import log

    path = os.environ.get("SCR_LOG_FILE")
    if path:
        log.configure(json=True, level=logging.INFO, stream=log.open_file(path))
    else:
        log.configure_quiet()


def _describe(exc: Exception) -> str:
    from scr.storage.db import describe

    return describe(exc) or f"internal error ({exc.__class__.__name__}); nothing was written"


def _exit_status(exc: Exception) -> int:
    """A damaged database file is the input that is wrong (exit 2, like any bad input); any
    other unexpected error is internal."""
    from scr.storage.db import damaged

    problem = damaged(exc)
    return EXIT_INTERNAL if problem is None else problem.exit_code


def _require_utf8(argv: Sequence[str]) -> None:
    """Every word of the command line must be UTF-8 text: Python hands bytes that are not
    through as lone surrogates, which no reference, name or value may hold and no database
    driver can store."""
    for number, word in enumerate(argv, start=1):
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(f"argument {number} is not UTF-8 text: {word[:40]!r}") \
                from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main() -> NoReturn:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
