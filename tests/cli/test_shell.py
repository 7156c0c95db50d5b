"""The admin shell in this process, driven through cmd2's onecmd_plus_hooks: every command
group's commands, errors that do not stop it, `as NAME`, help from the process definition,
completion, history across sessions, and colour only at a terminal."""

from __future__ import annotations

import argparse
import io
import lzma
import re
import sys
import types
from datetime import timedelta

import pytest

from scr.lifecycle.cli import cases as commands
from scr.lifecycle.cli import main as cli
from scr.lifecycle.cli.app import App, Output
from scr.lifecycle.cli.shell import Shell, history_file, subcommands
from scr.lifecycle.settings import load
from scr.lifecycle.views import style
from scr.states.enums import State
from scr.states.errors import InvalidInput
from scr.states.registry import REGISTRY
from scr.states.scr.v1 import DEFINITION
from tests.board import BM, CHAIR, HEALTH, SCR_REFERRAL, SUBCHAIR
from tests.cli.scr import scr_v1_config
from tests.conftest import T0

NOW = (T0 + timedelta(hours=2)).isoformat()


class Terminal(io.StringIO):
    """An output stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def make_app(url: str, actor: str | None = BM, now: str | None = NOW) -> App:
    # A board whose new cases start under SCR version 1, as these tests' cases do.
    env = {"SCR_DATABASE_URL": url, "SCR_ALLOW_CLOCK_OVERRIDE": "1",
           "SCR_CONFIG": str(scr_v1_config())}
    return App(load(actor=actor, now=now, environ=env))


@pytest.fixture
def app(board, sqlite_url):
    application = make_app(sqlite_url)
    yield application
    application.close()


class LiveStdout(io.TextIOBase):
    """Whatever sys.stdout is when written to: capsys swaps it in only once the test runs,
    after fixtures have been built."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return False


@pytest.fixture
def shell(app, monkeypatch) -> Shell:
    monkeypatch.delenv("NO_COLOR", raising=False)
    return Shell(app, stdin=io.StringIO(), stdout=LiveStdout())


def run(shell: Shell, capsys, line: str) -> tuple[bool, str, str]:
    capsys.readouterr()
    stop = shell.onecmd_plus_hooks(line)
    out, err = capsys.readouterr()
    return stop, out, err


def completions(shell: Shell, line: str) -> list[str]:
    begidx = len(line) - len(line.split(" ")[-1])
    return list(shell.complete(line[begidx:], line, begidx, len(line)).to_strings())


def test_every_command_of_every_group_is_a_shell_command(shell):
    """The shell offers exactly the parser's commands, except shell itself."""
    names = set(subcommands(cli.build_parser()))
    assert "shell" not in names
    assert {"show", "advance", "why", "timeline", "overdue", "report", "diagram"} <= names
    assert names <= set(shell.get_visible_commands())
    visible = set(shell.get_visible_commands())
    assert not visible & {"shell", "py", "edit", "set", "alias", "macro"}  # no way out


def test_a_command_group_added_later_appears_in_the_shell(board, sqlite_url, capsys,
                                                          monkeypatch):
    """A module added to COMMAND_GROUPS brings its command, help and completion along."""
    group = types.ModuleType("tests_extra_group")

    def echo(app: App, args: argparse.Namespace) -> Output:
        return Output({"ref": args.ref}, f"echo {args.ref}")

    def add_commands(command):
        p = command("echo", "say a case reference back")
        p.add_argument("ref")
        p.set_defaults(func=echo)

    group.add_commands = add_commands
    monkeypatch.setitem(sys.modules, "tests_extra_group", group)
    monkeypatch.setattr(cli, "COMMAND_GROUPS", (*cli.COMMAND_GROUPS, "tests_extra_group"))
    ref = board.refer(at=T0)
    shell = Shell(make_app(sqlite_url), stdin=io.StringIO())
    assert run(shell, capsys, f"echo {ref}")[1] == f"echo {ref}\n"
    assert completions(shell, "echo CR-") == [ref]
    assert "say a case reference back" in run(shell, capsys, "help echo")[1]


def test_show_prints_what_the_one_shot_command_prints(board, shell, capsys, monkeypatch,
                                                      sqlite_url):
    """Inside the shell `show` prints the same plain text as `scr show`."""
    ref = board.refer(at=T0)
    stop, out, err = run(shell, capsys, f"show {ref}")
    assert (stop, err, shell.last_status) == (False, "", 0)
    monkeypatch.setenv("SCR_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SCR_ALLOW_CLOCK_OVERRIDE", "1")
    assert cli.run(["--as", BM, "--now", NOW, "show", ref]) == 0
    assert capsys.readouterr().out == out
    assert "\x1b" not in out


def test_errors_print_one_line_and_the_shell_carries_on(board, shell, capsys):
    """Unknown trigger, refusal, bad usage and unknown command: one error line each."""
    ref = board.refer(at=T0)
    cases = [(f"advance {ref} launch_rocket", 2, "error: unknown trigger 'launch_rocket'"),
             (f"advance {ref} withdraw", 3, "error: withdraw refused for"),
             ("show", 2, "error: the following arguments are required: ref"),
             ("frobnicate", 2, "error: unknown command 'frobnicate'"),
             (f'advance {ref} withdraw --reason "unclosed', 2,
              "error: invalid syntax: No closing quotation"),
             (f"advance {ref} withdraw --reason dup > out.txt", 2,
              "error: unrecognized arguments: > out.txt"),
             (f"show {ref} | sh", 2, "error: unrecognized arguments: | sh")]
    for line, status, message in cases:
        stop, out, err = run(shell, capsys, line)
        assert stop is False and out == ""
        assert err.startswith(message) and err.count("\n") == 1, (line, err)
        assert shell.last_status == status
    assert board.state(ref) == "referral"
    assert run(shell, capsys, f"advance {ref} withdraw --reason 'a > b | c'")[0] is False
    assert shell.last_status == 0 and board.state(ref) == "closed"


def test_help_flag_and_quit(shell, capsys):
    """`show --help` prints usage without leaving; quit, exit and end of input stop."""
    stop, out, _ = run(shell, capsys, "show --help")
    assert stop is False and out.startswith("usage: show")
    assert run(shell, capsys, "quit")[0] is True
    assert run(shell, capsys, "exit")[0] is True
    assert run(shell, capsys, "_eof")[0] is True


def test_as_switches_the_acting_user(board, shell, capsys):
    """`as NAME` changes who acts for the commands after it; an unknown name changes nothing."""
    ref = board.refer(at=T0)
    assert run(shell, capsys, "as Ivy Chair")[1] == "acting as Ivy Chair\n"
    assert shell.prompt.startswith(f"scr [{CHAIR} @ ")
    _, _, err = run(shell, capsys, f"advance {ref} withdraw --reason duplicate")
    assert "Ivy Chair may not fire withdraw" in err and shell.last_status == 3
    _, _, err = run(shell, capsys, "as Nobody Here")
    assert err == "error: unknown user 'Nobody Here'\n" and shell.app.settings.actor == CHAIR
    run(shell, capsys, f"as {BM}")
    run(shell, capsys, f"advance {ref} withdraw --reason duplicate")
    assert shell.last_status == 0 and board.state(ref) == "closed"
    assert run(shell, capsys, "as -")[1] == "acting as nobody\n"


def test_now_moves_the_clock_only_when_allowed(board, shell, capsys, monkeypatch):
    """`now ISO` runs later commands as of that moment; refused without the override."""
    board.refer(at=T0)
    monkeypatch.setenv("SCR_ALLOW_CLOCK_OVERRIDE", "1")
    assert run(shell, capsys, "now 2026-12-01T10:00")[1] == \
        "now: Tue 01 Dec 2026 10:00 (set)\n"
    assert "Triage of the referral" in run(shell, capsys, "overdue")[1]
    monkeypatch.delenv("SCR_ALLOW_CLOCK_OVERRIDE")
    _, _, err = run(shell, capsys, "now 2027-01-01")
    assert err.startswith("error: now is refused") and shell.last_status == 2


def test_help_lists_commands_and_triggers_and_explains_each_trigger(shell, capsys):
    """`help` names every command and trigger; `help TRIGGER` comes from the definition."""
    out = run(shell, capsys, "help")[1]
    for name in subcommands(shell.parser):
        assert f"\n  {name} " in out
    for spec in DEFINITION.all_triggers:
        assert f"\n  {spec.name} " in out and spec.label in out
    record = run(shell, capsys, "help record_return")[1]
    assert record.startswith("record_return — Agency return received\n")
    assert "  who        agency_lead of the agency named or business_manager" in record
    assert "    view (one of scr, case_review, no_review)" in record
    assert "[private: never e-mailed, logged or kept in history]" in record
    assert "agency asked and not returned (judged on the input)" in record
    publish = run(shell, capsys, "help publish")[1]
    assert "publication_hold → published" in publish and "scr fires it itself" in publish
    decide = run(shell, capsys, "help decide_no_review")[1]
    assert "criteria" in decide and "reason     required: --reason TEXT" in decide
    assert run(shell, capsys, "help advance")[1].startswith("usage: advance")
    assert run(shell, capsys, "help nothing")[2].startswith("error: no help on 'nothing'")


def test_help_warns_that_typed_free_text_is_kept_for_good(shell, capsys):
    """The help of a milestone, an output's location, an action's description and owner, a
    report's title, the pseudonym and a reason says the text is kept for good, where it
    goes, and that it must not name the child or family."""
    never = "never name the child or family"
    milestone = run(shell, capsys, "help record_milestone")[1]
    assert f"kept for good in the case's history (never e-mailed): {never}" in milestone
    action = " ".join(run(shell, capsys, "help add_action")[1].split())
    assert f"description (text): what is to be done [kept for good in the case record " \
        f"(never e-mailed): {never}]" in action
    assert f"a post holder [kept for good in the case's history and sent in e-mail: " \
        f"{never}]" in action
    assert never in run(shell, capsys, "help record_output")[1]
    assert never in run(shell, capsys, "help complete_review")[1]
    withdraw = run(shell, capsys, "help withdraw")[1]
    assert f"--reason TEXT [kept for good in the case's history and sent in e-mail: " \
        f"{never}]" in withdraw
    for command, option in (("advance", "--reason"), ("refer", "--pseudonym")):
        text = " ".join(run(shell, capsys, f"help {command}")[1].split())
        assert never in text.rsplit(option, 1)[1].split(" --", 1)[0], command


def test_completion_of_refs_triggers_params_and_values(board, shell):
    """TAB completes references, triggers for the case's state, KEY= names and values."""
    ref = board.refer(at=T0)
    other = board.refer(at=T0)
    assert completions(shell, "show CR-") == [ref, other]
    assert completions(shell, f"advance {ref} ") == ["amend_referral", "request_information",
                                                     "withdraw"]
    assert completions(shell, f"why {ref} req") == ["request_information"]
    assert completions(shell, f"advance {ref} request_information ") == ["agencies=",
                                                                         "urgent="]
    assert completions(shell, f"advance {ref} request_information agencies=health,po") == [
        "agencies=health,police"]
    assert "agencies=health,health" not in completions(
        shell, f"advance {ref} request_information agencies=health,")
    assert completions(shell, f"advance {ref} request_information urgent=") == [
        "urgent=false", "urgent=true"]
    assert completions(shell, f"advance {ref} amend_referral harm=") == [
        "harm=death", "harm=other", "harm=serious_harm"]
    assert completions(shell, "list --state pub") == ["publication_hold", "published"]
    assert completions(shell, "users ") == ["add", "change", "deactivate", "list",
                                            "reactivate", "rescue"]
    assert "subgroup_chair" in completions(shell, "users add X --role ")
    assert completions(shell, "refer --harm s") == ["serious_harm"]
    assert completions(shell, "report --format ") == ["csv", "json", "md"]
    assert completions(shell, "as Iv") == ["Ivy Chair"]
    # Help's topics are every definition's triggers: the learning register's too.
    assert completions(shell, "help with") == ["withdraw", "withdraw_review"]
    assert completions(shell, "tim") == ["timeline"]


def test_completion_of_action_numbers_by_what_the_trigger_needs(board, shell):
    """complete_action offers open actions; sign_off_action offers completed ones."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.PUBLISHED, at=T0)
    for agency in ("health", "police"):
        board.fire(ref, "add_action", at=at, by=SUBCHAIR, agency=agency, description="x",
                   owner=HEALTH, due="2027-03-01")
    board.fire(ref, "complete_action", at=at, action="2", evidence="done")
    assert completions(shell, f"advance {ref} complete_action action=") == ["action=1"]
    assert completions(shell, f"advance {ref} sign_off_action action=") == ["action=2"]
    assert completions(shell, f"advance {ref} add_action owner=Hal") == ["owner=Hal Health"]


def test_history_is_kept_across_sessions_without_private_text(board, sqlite_url, tmp_path):
    """A second session recalls the first one's commands; a summary never reaches the file."""
    ref = board.refer(at=T0)
    board.walk(ref, State.INFORMATION_REQUEST, at=T0)
    path = tmp_path / "history"
    script = io.StringIO(f"show {ref}\nadvance {ref} record_return agency=health view=scr "
                         "summary=words-about-the-child\nquit\n")
    first = Shell(make_app(sqlite_url), stdin=script, stdout=io.StringIO(), history=path)
    first.cmdloop()
    first._persist_history()
    stored = lzma.decompress(path.read_bytes()).decode()
    assert "words-about-the-child" not in stored
    second = Shell(make_app(sqlite_url), stdin=io.StringIO(), history=path)
    assert [item.raw for item in second.history] == [f"show {ref}", "quit"]


def test_history_file_location(tmp_path):
    """SCR_SHELL_HISTORY wins (empty: none); otherwise the XDG data directory."""
    assert history_file({"SCR_SHELL_HISTORY": str(tmp_path / "h")}) == tmp_path / "h"
    assert history_file({"SCR_SHELL_HISTORY": ""}) is None
    assert history_file({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "scr" / "shell_history"


def test_colour_at_a_terminal_only(board, app, monkeypatch):
    """At a terminal tables and verdicts are coloured; NO_COLOR and pipes get plain text."""
    ref = board.refer(at=T0)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    tty = Terminal()
    Shell(app, stdin=io.StringIO(), stdout=tty).onecmd_plus_hooks(f"triggers {ref}")
    coloured = tty.getvalue()
    assert "\x1b[32mallowed\x1b[0m" in coloured
    plain = io.StringIO()
    Shell(app, stdin=io.StringIO(), stdout=plain).onecmd_plus_hooks(f"triggers {ref}")
    assert "\x1b" not in plain.getvalue()
    assert style.plain(coloured) == plain.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    again = Terminal()
    Shell(app, stdin=io.StringIO(), stdout=again).onecmd_plus_hooks(f"history {ref}")
    assert "\x1b" not in again.getvalue()


def test_json_inside_the_shell_is_one_document(board, shell, capsys):
    """`show REF --json` in the shell prints exactly one JSON document."""
    import json

    ref = board.refer(at=T0)
    doc = json.loads(run(shell, capsys, f"show {ref} --json")[1])
    assert doc["ref"] == ref and "summary" in doc["referral"]


def test_the_shell_keeps_one_database_engine(board, shell, capsys):
    """Every command in a session uses the same App and database engine (what makes a
    command inside the shell quick; `make bench` measures how quick)."""
    ref = board.refer(at=T0)
    run(shell, capsys, f"show {ref}")
    engine = shell.app._db
    assert engine is not None
    for _ in range(3):
        _stop, out, _err = run(shell, capsys, f"show {ref}")
        assert ref in out
    assert shell.app._db is engine


def test_private_lines_are_recognised(board, shell):
    """Lines carrying a summary or evidence are kept out of the history; others are not."""
    ref = board.refer(at=T0)
    for line, private in ((f"show {ref}", False),
                          (f"advance {ref} complete_action action=1 evidence=x", True),
                          ("refer --summary 'x' --pseudonym P", True),
                          (f"why {ref} record_return summary=x", True),
                          # Any spelling: an abbreviation, a prefix as a key, capitals.
                          ("refer --summ 'words' --pseudonym P", True),
                          (f"advance {ref} record_return summ=words", True),
                          (f"advance {ref} complete_action action=1 EVIDENCE=words", True),
                          ("list --state referral", False)):
        before = len(shell.history)
        shell.onecmd_plus_hooks(line)
        assert len(shell.history) == before + (0 if private else 1), line
    assert commands.parse_assignments(["a=b"]) == {"a": "b"}


def test_each_command_is_found_in_the_group_the_one_shot_parser_loads_alone():
    """`scr COMMAND` imports only COMMAND's group: the table saying where each command
    lives agrees with what every group registers, and names every command."""
    from importlib import import_module

    class Recording:
        """A group's commands, by name (cli.Commands' interface)."""

        registry = REGISTRY

        def __init__(self) -> None:
            self.registered: list[str] = []

        def __call__(self, name, helptext):
            self.registered.append(name)
            return argparse.ArgumentParser()

    found = {}
    for group in cli.COMMAND_GROUPS:
        command = Recording()
        import_module(group).add_commands(command)
        found.update(dict.fromkeys(command.registered, group))
    assert found == cli.COMMAND_HOMES
    assert cli.command_word(["--as", "Sam", "--now", "x", "--json", "show", "CR-1"]) == "show"
    assert cli.command_word(["--help"]) is None


def tab(shell: Shell, line: str) -> tuple[str, list[str]]:
    """The line after one TAB at its end, as prompt_toolkit applies cmd2's completer (a
    quote it puts in starts a second round), and what was offered."""
    from cmd2.pt_utils import Cmd2Completer
    from prompt_toolkit.application import Application
    from prompt_toolkit.application.current import set_app
    from prompt_toolkit.buffer import Buffer
    from prompt_toolkit.document import Document
    from prompt_toolkit.input import DummyInput
    from prompt_toolkit.layout import Layout, Window
    from prompt_toolkit.layout.controls import BufferControl
    from prompt_toolkit.output import DummyOutput

    buffer = Buffer(document=Document(line, len(line)))
    application: Application[None] = Application(
        layout=Layout(Window(BufferControl(buffer=buffer))), input=DummyInput(),
        output=DummyOutput())
    found = []
    with set_app(application):
        for _ in range(2):
            found = list(Cmd2Completer(shell).get_completions(buffer.document, None))
            if found:
                break
    if len(found) == 1:
        buffer.apply_completion(found[0])
    return buffer.text, [c.text for c in found]


def test_names_with_spaces_complete_quoted_or_not(board, shell):
    """A user's name completes after `as` and `owner=`: a quote is put in for it, or
    finished when one was started at the word or inside it, and `as Bea M` goes on."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.PUBLISHED, at=T0)
    assert at
    assert tab(shell, "as Bea")[0] == 'as "Bea Manager" '
    assert tab(shell, 'as "Bea M')[0] == 'as "Bea Manager" '
    assert tab(shell, "as 'Bea M")[0] == "as 'Bea Manager' "
    assert tab(shell, "as Bea M")[0] == "as Bea Manager "
    line = f"advance {ref} add_action "
    assert tab(shell, line + "owner=Hal")[0] == line + '"owner=Hal Health" '
    assert tab(shell, line + '"owner=Hal H')[0] == line + '"owner=Hal Health" '
    assert tab(shell, line + 'owner="Hal H')[0] == line + 'owner="Hal Health" '
    assert tab(shell, line + 'owner="Hal ')[0] == line + 'owner="Hal Health" '
    assert tab(shell, line + "owner='Hal")[0] == line + "owner='Hal Health' "
    assert tab(shell, f"show {ref[:-1]}")[0] == f"show {ref} "


def test_clear_clears_a_terminal_and_nothing_else(app):
    """`clear` writes the clear-screen sequence at a terminal; piped, it writes nothing."""
    tty, piped = Terminal(), io.StringIO()
    Shell(app, stdin=io.StringIO(), stdout=tty).onecmd_plus_hooks("clear")
    Shell(app, stdin=io.StringIO(), stdout=piped).onecmd_plus_hooks("clear")
    assert tty.getvalue() == "\x1b[H\x1b[2J\x1b[3J" and piped.getvalue() == ""


def test_help_shows_each_command_as_typed_in_the_shell(shell, capsys):
    """Every command's help, and its subcommands', has the shell's usage: no leading `scr`."""
    for name in subcommands(shell.parser):
        out = run(shell, capsys, f"help {name}")[1]
        assert out.startswith(f"usage: {name}"), out
    assert run(shell, capsys, "users add --help")[1].startswith("usage: users add ")
    assert "clear" in run(shell, capsys, "help")[1]


def test_colour_never_lands_inside_a_label_or_free_text(board, app, monkeypatch):
    """At a terminal, every command's output is its plain text once the colour is taken
    out; each coloured span is one whole word; the definition's labels and the typed free
    text (a summary, a reason, an e-mail's subject) carry no colour."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    words = "the referral was closed and sent for review; still pending, due, refused"
    ref = board.refer({**SCR_REFERRAL, "summary": words}, at=T0)
    board.walk(ref, State.SUB_GROUP, at=T0)
    other = board.refer(at=T0)
    at = board.walk(other, State.PUBLISHED, at=T0)
    board.fire(other, "add_action", at=at, by=SUBCHAIR, agency="health",
               description="review what was sent", owner=HEALTH, due="2027-03-01")
    labels = {text for text in _labels(DEFINITION) if " " in text} | {words}
    commands = [f"show {ref}", f"triggers {ref}", f"history {ref}", f"timeline {ref}",
                f"show {other}", f"triggers {other}", f"timeline {other}",
                f"why {other} sign_off_actions", f"why {other} add_action", "list",
                "overdue --within 400", "outbox", "users list", "definitions", "diagram",
                "report --from 2026-01-01 --to 2027-12-31"]
    painted = 0
    for line in commands:
        tty, plain = Terminal(), io.StringIO()
        Shell(app, stdin=io.StringIO(), stdout=tty).onecmd_plus_hooks(line)
        Shell(app, stdin=io.StringIO(), stdout=plain).onecmd_plus_hooks(line)
        coloured = tty.getvalue()
        assert style.plain(coloured) == plain.getvalue(), line
        for label in labels:
            if label in plain.getvalue():
                assert label in coloured, (line, label)
        spans = re.findall(r"\x1b\[[0-9;]*m((?:\x1b\[[0-9;]*m)*)([^\x1b]*)\x1b\[0m", coloured)
        for _, text in spans:
            assert text and (re.fullmatch(r"[\w.-]+", text) or "  " in text), (line, text)
        painted += len(spans)
    assert painted > 50
    tty = Terminal()
    Shell(app, stdin=io.StringIO(), stdout=tty).onecmd_plus_hooks(f"show {ref}")
    assert "\x1b[36msub_group\x1b[0m — Case review sub-group" in tty.getvalue()
    assert words in tty.getvalue()


def _labels(definition) -> set[str]:
    """Every label and subject the definition writes."""
    found: set[str] = set()
    for value in vars(definition).values():
        found |= _strings(value)
    return found


def _strings(value, depth: int = 0) -> set[str]:
    if depth > 4:
        return set()
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(v, depth + 1) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple, set, frozenset)):
        return set().union(*(_strings(v, depth + 1) for v in value)) if value else set()
    if hasattr(value, "__dataclass_fields__"):
        return _strings(list(vars(value).values()), depth + 1)
    return set()


def test_the_commands_offer_the_definitions_they_are_given():
    """The parser is built for the registry its caller composes (cli.Commands.registry),
    not for a global one: a throwaway definition is a choice of `refer --process` there
    and nowhere else."""
    from scr.states.registry import Registry
    from tests.lifecycle.test_definitions import SCR, _drill

    given = cli.build_parser("refer", Registry(SCR, _drill()))
    assert given.parse_args(["refer", "--process", "drill"]).process == "drill"
    with pytest.raises((SystemExit, InvalidInput)):
        cli.build_parser("refer").parse_args(["refer", "--process", "drill"])
