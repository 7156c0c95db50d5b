"""`scr help [TOPIC]`, `scr completion bash|zsh` and `scr complete`: pages and TAB
completion for the one-shot commands, generated from the parser the commands run on and
from the process definitions, so a command, option or trigger added later is in them with
nothing to write here.

The completion scripts are shtab's, made from the parser: commands, options, choices and
files complete in the shell itself; the arguments whose values come from the database or
the definitions (case references, the triggers that apply in a case's state, KEY= names
and their values, users) ask `scr complete`, which reads the line as argparse does
(lifecycle.cli.completion) and answers quoted as the shell needs.
"""

from __future__ import annotations

import argparse
import re
from argparse import Namespace
from collections.abc import Callable, Iterator
from typing import Any

from scr.lifecycle.cli import completion
from scr.lifecycle.cli import main as cli
from scr.lifecycle.cli.app import App, Output
from scr.lifecycle.cli.completion import Candidate
from scr.states.errors import Conflict, InvalidInput, LifecycleError, Refused

ENVIRONMENT = {
    "SCR_DATABASE_URL": "the database: sqlite:///scr.db (the default) or "
                        "postgresql+psycopg://user:pass@host/db",
    "SCR_CONFIG": "a TOML configuration file for everything else",
    "SCR_ACTOR": "on a live board, whose decision a business manager records; in training "
                 "mode, the acting user",
    "SCR_NOW": "run as of this moment; refused unless SCR_ALLOW_CLOCK_OVERRIDE=1",
    "SCR_ALLOW_CLOCK_OVERRIDE": "1: training mode (a training board, a demonstration, the "
                                "tests): --now and --as name anyone",
    "SCR_MAIL_DIR": "the maildir e-mail goes to when no SMTP server is set (default ./mail)",
    "SCR_SMTP_URL": "smtp://host:25, smtp+starttls://user:pass@host:587 or "
                    "smtps://user:pass@host:465",
    "SCR_LOG_FILE": "one-shot commands append JSON log events here",
    "SCR_AUDIT_KEY": "the key of scr audit verify's digest (a secret the database does not "
                     "hold)",
    "SCR_AUDIT_KEY_FILE": "a file holding that key (scr audit key FILE writes one)",
    "SCR_CHECK_VIEWS": "1: after each trigger, read the case again and check the snapshot "
                       "the engine derived (slower)",
    "SCR_OIDC_CLIENT_SECRET": "the portal's OpenID Connect client secret",
    "SCR_SHELL_HISTORY": "where scr shell keeps its history (empty: nowhere; default "
                         "$XDG_DATA_HOME/scr/shell_history)",
    "NO_COLOR": "any value: no colour in scr shell, even at a terminal",
}
TOPICS = {
    "exit-status": "what each exit status means",
    "environment": "the environment variables scr reads",
    "triggers": "the triggers command, and every trigger of the definitions by name",
}
_SHELLS = ("bash", "zsh")
_SAFE = re.compile(r"[\w@%+=:,./-]")


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    p = command("help", "a page on a command, a trigger or a topic (exit-status, "
                "environment, triggers); --man prints the manual page")
    p.add_argument("topic", nargs="?", metavar="TOPIC", help="a command, a trigger or a "
                   "topic (scr help lists them)")
    p.add_argument("--man", action="store_true",
                   help="print the whole manual as a man page (roff), for man -l")
    p.set_defaults(func=help_page, in_shell=False)  # the shell's own help says more
    c = command("completion", "print the script that makes TAB complete scr's commands in "
                "bash or zsh (deploy/README.md says how to install it)")
    c.add_argument("shell", choices=_SHELLS)
    c.set_defaults(func=completion_script, in_shell=False)
    k = command("complete", "what TAB offers after the words typed, one per line (the "
                "completion scripts call it)")
    k.add_argument("line", help="the command line up to the cursor, from 'scr' on")
    k.add_argument("current", nargs="?", default=None,
                   help="the part of the last word the shell replaces (bash's current word)")
    k.add_argument("--for", dest="target", choices=_SHELLS, default="bash",
                   help="how to quote the words (default bash)")
    k.set_defaults(func=complete_words, in_shell=False)


# ------------------------------------------------------------------------ pages
def help_page(app: App, args: Namespace) -> Output:
    if args.man:
        page = man_page(app)
        return Output({"man": page}, page)
    topic = args.topic or ""
    parser = cli.build_parser(topic or None, app.registry)
    commands = _commands(parser)
    triggers = app.processes.triggers_by_name()
    if not topic:
        text = _overview(parser, commands)
    elif topic == "triggers":  # the command's page, then every trigger it may list
        width = max(map(len, triggers)) + 2
        text = "\n".join([*_parser_pages(commands[topic]),
                          "Every trigger (scr help TRIGGER: what it does, who, parameters, "
                          "guards):", *(f"  {name:<{width}}{spec.label}"
                                        for name, (_, spec) in triggers.items())])
    elif topic in commands:
        text = "\n".join(_parser_pages(commands[topic])).rstrip()
    elif topic == "exit-status":
        text = "Exit status\n" + "\n".join(f"  {code:<5}{meaning}"
                                           for code, meaning in exit_statuses())
    elif topic == "environment":
        text = "Environment\n" + "\n".join(f"  {name}\n      {meaning}"
                                           for name, meaning in environment(parser))
    elif topic in triggers:
        from scr.lifecycle.views.why import trigger_help

        text = trigger_help(*triggers[topic])
    else:
        raise InvalidInput(f"no help on {topic!r}: scr help lists the commands, topics "
                           "and triggers")
    return Output({"topic": topic, "text": text}, text)


def exit_statuses() -> list[tuple[int, str]]:
    """What each exit status means, from the errors that carry it."""
    from scr.lifecycle.cli.audit import ChainBroken

    def said(error: type[LifecycleError]) -> str:
        return " ".join((error.__doc__ or "").split("\n\n")[0].split())

    return [(0, "done"), (cli.EXIT_INTERNAL, "an internal error; nothing was written"),
            (InvalidInput.exit_code, "bad usage or input. " + said(InvalidInput)),
            (Refused.exit_code, "refused. " + said(Refused)),
            (Conflict.exit_code, "conflict. " + said(Conflict)),
            (ChainBroken.exit_code, "the record does not verify (scr audit verify). "
             + said(ChainBroken)),
            (130, "interrupted (Ctrl-C); nothing was written")]


def environment(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """Each variable with its meaning, and the global option that does the same."""
    options = {m.group(1): a.option_strings[0] for a in parser._actions
               if (m := re.search(r"\(or (SCR_\w+)\)", a.help or ""))}
    return [(f"{name} (or {options[name]})" if name in options else name, meaning)
            for name, meaning in ENVIRONMENT.items()]


def _overview(parser: argparse.ArgumentParser,
              commands: dict[str, argparse.ArgumentParser]) -> str:
    width = max(map(len, [*commands, *TOPICS])) + 2
    lines = [parser.format_usage().rstrip(), "", "Commands (scr help COMMAND for its page):"]
    lines += [f"  {n:<{width}}{p.description or ''}" for n, p in commands.items()]
    lines += ["", "Topics:"] + [f"  {n:<{width}}{h}" for n, h in TOPICS.items()]
    lines += ["", "scr help TRIGGER explains a trigger; scr help --man prints the manual page."]
    return "\n".join(lines)


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _parser_pages(parser: argparse.ArgumentParser) -> Iterator[str]:
    """A command's help, then each of its subcommands' (users add, audit verify)."""
    yield parser.format_help()
    for sub in _commands(parser).values():
        yield from _parser_pages(sub)


def man_page(app: App) -> str:
    """The manual page, scr(1), in roff: every command with its usage and options, every
    trigger, the environment and the exit statuses."""
    parser = cli.build_parser(registry=app.registry)
    lines = [".TH SCR 1", ".SH NAME", "scr \\- " + _roff(parser.description or ""),
             ".SH SYNOPSIS", ".nf", _roff(parser.format_usage().removeprefix("usage: ")
                                           .strip()), ".fi",
             ".SH OPTIONS"]
    lines += _roff_options(parser)
    lines += [".SH COMMANDS"]
    for command in _commands(parser).values():
        for page in completion.parsers(command):
            lines += [".SS " + _roff(page.prog.removeprefix("scr ")), _roff(page.description
                                                                            or ""),
                      ".PP", ".nf", _roff(page.format_usage().removeprefix("usage: ")
                                          .strip()), ".fi"]
            lines += _roff_options(page)
    lines += [".SH TRIGGERS", "scr advance REF TRIGGER [KEY=VALUE ...] fires one; "
              "scr help TRIGGER says what it does, who may fire it and what must hold."]
    for trigger, (_, spec) in app.processes.triggers_by_name().items():
        lines += [".TP", ".B " + _roff(trigger), _roff(spec.label)]
    lines += [".SH ENVIRONMENT"]
    for name, meaning in environment(parser):
        lines += [".TP", ".B " + _roff(name), _roff(meaning)]
    lines += [".SH EXIT STATUS"]
    for code, meaning in exit_statuses():
        lines += [".TP", f".B {code}", _roff(meaning)]
    lines += [".SH SEE ALSO", "scr help TOPIC; scr shell (help inside it)."]
    return "\n".join(lines)


def _roff_options(parser: argparse.ArgumentParser) -> list[str]:
    lines = []
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        metavar = "" if action.nargs == 0 else " " + str(action.metavar or action.dest.upper())
        lines += [".TP", ".B " + _roff(", ".join(action.option_strings) + metavar),
                  _roff(action.help or "")]
    return lines


def _roff(text: str) -> str:
    """Text roff prints as it is: backslashes and hyphens escaped, and no line that starts
    with a control character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line[:1] in (".", "'") else line
                     for line in text.split("\n"))


# ------------------------------------------------------------------- completion
def completion_script(app: App, args: Namespace) -> Output:
    """The script shtab makes of the parser: commands, options, choices and files complete
    in the shell itself; an argument whose values come from the database or the
    definitions (completion.source: VALUES) calls back `scr complete` with the line."""
    import shtab

    parser = cli.build_parser(registry=app.registry)
    ways = {completion.VALUES: {"bash": "_scr_values", "zsh": "{_scr_values}"},
            completion.FILE: shtab.FILE, completion.DIRECTORY: shtab.DIRECTORY}
    for page in completion.parsers(parser):
        for action in page._actions:
            how = completion.source(action, app.registry)
            if how is not None:
                action.complete = ways[how] if isinstance(how, str) else _words(how)  # type: ignore[attr-defined]
    for choice in _subcommands_action(parser)._choices_actions:
        if choice.dest == "complete":  # for the scripts, not for people
            choice.help = argparse.SUPPRESS
    script = shtab.complete(parser, args.shell, preamble=_PREAMBLE[args.shell])
    if args.shell == "bash":
        script += _BASH_AFTER
    return Output({"shell": args.shell, "script": script}, script)


def _subcommands_action(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _words(words: tuple[str, ...]) -> dict[str, Any]:
    """A closed list of words, written into the script (shtab's `.complete`)."""
    function = "_scr_words_" + re.sub(r"\W", "_", "_".join(words))
    listed = " ".join(words)
    return {"bash": function, "zsh": f"({listed})", "preamble": {
        "bash": f"{function}() {{ compgen -W '{listed}' -- \"$1\"; }}"}}


_PREAMBLE = {
    "bash": r"""# Values from the database or the process definitions: `scr complete` reads the
# line up to the cursor and prints what replaces bash's current word ("" after a KEY=).
_scr_values() {
  local word=${COMP_WORDS[COMP_CWORD]}
  [[ $word == [=:] ]] && word=
  "${COMP_WORDS[0]}" complete -- "${COMP_LINE:0:COMP_POINT}" "$word" 2>/dev/null
}""",
    "zsh": r"""# Values from the database or the process definitions: `scr complete --for zsh` reads
# the line up to the cursor (zsh takes the quotes out of the word being completed, so it is
# put back quoted) and prints the whole word, then each candidate unquoted, marked finished
# (F) or open (O: no space after it, e.g. KEY=); what zsh completes is the end of the word.
_scr_values() {
  local -a lines finals opens
  local word typed=${(Q)PREFIX} head line
  lines=("${(@f)$(${${(z)BUFFER}[1]} complete --for zsh -- \
           "${BUFFER[1,CURSOR-${#PREFIX}]}${(q)typed}" 2>/dev/null)}")
  word=${lines[1]}
  head=${word%$typed}
  for line in "${(@)lines[2,-1]}"; do
    case $line in
      (F\ *) finals+=("${${line#F }#$head}") ;;
      (O\ *) opens+=("${${line#O }#$head}") ;;
    esac
  done
  (( ${#opens} )) && compadd -S '' -a opens
  (( ${#finals} )) && compadd -a finals
  return 0
}""",
}
# After shtab's function, in bash's own: a KEY= name takes its value with no space between.
_BASH_AFTER = r"""
_scr() {
  _shtab_scr
  if (( ${#COMPREPLY[@]} == 1 )) && [[ ${COMPREPLY[0]} == *= ]]; then
    compopt -o nospace 2>/dev/null
  fi
  return 0
}
complete -o bashdefault -F _scr scr
"""


def complete_words(app: App, args: Namespace) -> Output:
    """The candidates for the word at the end of `args.line`: for bash, each as the text
    that replaces the shell's current word, quoted as the word was begun; for zsh, the word
    typed so far and then each candidate unquoted, F (finished) or O (open)."""
    words = completion.words_to_cursor(args.line)[1:] or [""]
    parser = cli.build_parser(cli.command_word(words[:-1]), app.registry)
    found = completion.complete(completion.Lookup(app), parser, words)
    if args.target == "zsh":
        lines = [words[-1]] + [("F " if c.final else "O ") + c.text for c in found]
    else:
        lines = [r for c in found if (r := _bash_reply(args.line, args.current, words[-1], c))]
    return Output({"word": words[-1], "candidates": [c.text for c in found]}, "\n".join(lines))


def _bash_reply(line: str, current: str | None, word: str, found: Candidate) -> str:
    """What replaces bash's current word (the end of the last word, after any `=` or `:`
    bash broke it at) so that the line reads the candidate, quoted as it was begun."""
    raw = line[completion.scan_quotes(line)[2]:]  # the last word as typed
    quote = completion.scan_quotes(raw)[0]
    rest = found.text[len(word):]
    if quote == "'":
        tail = rest.replace("'", "'\\''") + ("'" if found.final else "")
    elif quote == '"':
        tail = re.sub(r'(["\\$`])', r"\\\1", rest) + ('"' if found.final else "")
    else:
        tail = "".join(ch if _SAFE.match(ch) else "\\" + ch for ch in rest)
    current = raw if current is None else current
    if not raw.endswith(current):
        return ""
    return (raw + tail)[len(raw) - len(current):]
