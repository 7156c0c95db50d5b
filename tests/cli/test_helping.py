"""`scr help`, `scr completion bash|zsh` and `scr complete`, run as the real command: pages
generated from the parser and the definitions, and completion scripts (shtab's) that, loaded
in an interactive bash or zsh, complete commands, options, case references, triggers and
quoted names at TAB."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.board import BM
from tests.cli.conftest import CASE_REF
from tests.cli.scr import ROOT, Scr


@pytest.fixture
def board_scr(tmp_path, case_template) -> Scr:
    """`scr` on a copy of the board with CASE_REF in information_request."""
    from tests.cli.conftest import _copy_db

    _copy_db(case_template, tmp_path)
    return Scr.in_dir(tmp_path)


def at_the_prompt(shell: str, scr: Scr, tmp_path: Path, lines: list[str]) -> list[str]:
    """Each line as an interactive bash or zsh shows it after one TAB at its end, the
    script `scr completion SHELL` prints loaded as deploy/README.md installs it, on a
    terminal of its own; the script calls back `scr` (this tree's) for dynamic values."""
    script = scr.ok("completion", shell).out
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    program = bin_dir / "scr"
    program.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m scr.lifecycle.cli "$@"\n')
    program.chmod(0o755)
    if shell == "bash":
        (tmp_path / "scr.bash").write_text(script)
        argv = ["bash", "--norc", "--noprofile", "-i"]
        setup = (f"source {tmp_path / 'scr.bash'}; bind 'set bell-style none'; "
                 """bind -x '"\\C-t": printf "\\nLINE<<%s>>\\n" "$READLINE_LINE"'""")
    else:
        (tmp_path / "zfunc").mkdir()
        (tmp_path / "zfunc" / "_scr").write_text(script)
        argv = ["zsh", "-f", "-i"]
        setup = (f"fpath=({tmp_path / 'zfunc'} $fpath); autoload -U compinit; "
                 "compinit -u -D; show() { print -r -- $'\\n'\"LINE<<$BUFFER>>\" }; "
                 "zle -N show; bindkey '^T' show")
    env = {**scr.env, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PS1": "$ ",
           "TERM": "dumb", "HOME": str(tmp_path)}
    pid, fd = pty.fork()
    if pid == 0:  # the shell, on the terminal's other side
        os.chdir(scr.cwd)
        os.execvpe(argv[0], argv, env)
    try:
        os.write(fd, f"{setup}; echo READY\n".encode())
        _read_until(fd, rb"\nREADY")
        shown = []
        for line in lines:  # TAB, show the line, then erase it (^U) for the next
            os.write(fd, f"{line}\t\x14".encode())
            shown.append(_read_until(fd, rb"LINE<<(.*?)>>\r?\n").decode())
            os.write(fd, b"\x15")
        return shown
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)


def _read_until(fd: int, pattern: bytes, timeout: float = 120) -> bytes:
    """Read the terminal until `pattern` shows; its first group (or the whole match)."""
    out, end = b"", time.monotonic() + timeout
    while time.monotonic() < end:
        if select.select([fd], [], [], 1)[0]:
            out += os.read(fd, 4096)
            if found := re.search(pattern, out):
                return found.group(found.lastindex or 0)
    raise AssertionError(f"no {pattern!r} on the terminal: {out[-500:]!r}")


PROMPT_LINES = {  # typed, then as TAB leaves it (the value after KEY= with no space)
    "scr adv": "scr advance ",
    "scr --con": "scr --config ",
    "scr show CR-2026": f"scr show {CASE_REF} ",
    f"scr advance {CASE_REF} record_r": f"scr advance {CASE_REF} record_return ",
    f"scr advance {CASE_REF} record_return ag": f"scr advance {CASE_REF} record_return agency=",
    f"scr advance {CASE_REF} record_return agency=hea":
        f"scr advance {CASE_REF} record_return agency=health ",
    'scr --as "Bea M': 'scr --as "Bea Manager" ',
    "scr --as 'Ivy": "scr --as 'Ivy Chair' ",
    f"scr --as '{BM}' list --state publication_h":
        f"scr --as '{BM}' list --state publication_hold ",
    "scr completion z": "scr completion zsh ",
    "scr refer --harm s": "scr refer --harm serious_harm ",
}


def test_bash_completes_commands_options_refs_triggers_and_quoted_names(board_scr, tmp_path):
    """The generated script in an interactive bash: commands, options and choices from the
    script itself; case references, the triggers that apply, KEY= names, values and names
    with spaces (escaped, or finishing the quote that was begun) from `scr complete`."""
    assert shutil.which("bash")
    lines = {**PROMPT_LINES, "scr --as Bea": "scr --as Bea\\ Manager "}
    assert at_the_prompt("bash", board_scr, tmp_path, list(lines)) == list(lines.values())


def test_zsh_completes_what_bash_does(board_scr, tmp_path):
    """The zsh script, autoloaded from fpath, completes the same lines the same way."""
    if shutil.which("zsh") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("zsh is missing under CI=true: .ci/run installs it")
        pytest.skip("zsh is not installed here")
    lines = {**PROMPT_LINES, "scr --as Bea": "scr --as Bea\\ Manager "}
    assert at_the_prompt("zsh", board_scr, tmp_path, list(lines)) == list(lines.values())


def test_complete_answers_each_shell_as_it_replaces_the_word(board_scr):
    """`scr complete` (what the scripts call): for bash what replaces bash's current word,
    quoted as the word was begun (after a KEY=, bash's word is the value); for zsh the word
    typed so far, then each candidate unquoted, finished (F) or open (O)."""
    def bash(line: str, current: str) -> list[str]:
        return board_scr.ok("complete", "--", line, current).out.splitlines()

    assert bash(f"scr advance {CASE_REF} record_return agency=he", "he") == ["health"]
    assert {"health", "police"} <= set(bash(f"scr advance {CASE_REF} record_return agency=", ""))
    assert bash('scr --as "Bea M', '"Bea M') == ['"Bea Manager"']
    assert bash("scr --as Bea", "Bea") == ["Bea\\ Manager"]
    out = board_scr.ok("complete", "--for", "zsh", "--",
                       f'scr advance {CASE_REF} record_return agency=he').out
    assert out.splitlines() == ["agency=he", "F agency=health"]
    out = board_scr.ok("complete", "--for", "zsh", "--",
                       f"scr advance {CASE_REF} record_return ag").out
    assert out.splitlines() == ["ag", "O agency="]
    out = board_scr.ok("complete", "--for", "zsh", "--", 'scr --as "Bea').out
    assert out.splitlines() == ["Bea", "F Bea Manager"]


def test_scripts_are_shtabs_and_well_formed(scr):
    """Both scripts are shtab's, made from the parser: every command (not `complete`,
    which is for the scripts), dynamic values through `scr complete`; zsh and bash check
    their syntax (zsh when it is installed)."""
    zsh_script = scr.ok("completion", "zsh").out
    assert zsh_script.startswith("#compdef scr\n") and "shtab" in zsh_script
    assert "advance:'fire a trigger on a case'" in zsh_script
    assert "complete --for zsh --" in zsh_script and "\n    complete:" not in zsh_script
    bash_script = scr.ok("completion", "bash").out
    assert "_shtab_scr_advance_pos_0_COMPGEN=_scr_values" in bash_script
    assert " complete " not in bash_script.split("_shtab_scr_subparsers=(", 1)[1].split(")")[0]
    check = subprocess.run(["bash", "-n"], input=bash_script, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    zsh = shutil.which("zsh")
    if zsh is None:
        if os.environ.get("CI") == "true":
            pytest.fail("zsh is missing under CI=true: .ci/run installs it")
        pytest.skip("zsh is not installed here: the zsh script is checked as text only")
    check = subprocess.run([zsh, "-n"], input=zsh_script, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_help_pages_come_from_the_parser_and_the_definitions(board_scr):
    """`scr help` lists every command and topic; a command's page is its parser's help
    (with its subcommands'); a trigger's is the shell's; topics are generated."""
    scr = board_scr
    overview = scr.ok("help").out
    for command in ("advance", "show", "users", "completion", "help"):
        assert f"\n  {command} " in overview
    for topic in ("exit-status", "environment", "triggers"):
        assert f"\n  {topic} " in overview
    assert scr.ok("help", "advance").out.startswith("usage: scr advance")
    users = scr.ok("help", "users").out
    assert "usage: scr users add" in users and "usage: scr users list" in users
    assert scr.ok("help", "withdraw").out.startswith("withdraw — ")
    triggers = scr.ok("help", "triggers").out
    assert triggers.startswith("usage: scr triggers") and "\n  record_return " in triggers
    statuses = scr.ok("help", "exit-status").out
    for code in ("0", "1", "2", "3", "4", "5", "130"):
        assert re.search(rf"^  {code} +\S", statuses, re.M), code
    environment = scr.ok("help", "environment").out
    assert "SCR_ACTOR (or --as)" in environment
    missing = scr("help", "nothing-of-the-sort")
    assert missing.code == 2 and missing.err.startswith("error: no help on")


def test_every_variable_scr_reads_is_on_the_environment_page(board_scr):
    """Each SCR_ variable named in the code is explained by `scr help environment`."""
    page = board_scr.ok("help", "environment").out
    named = set()
    for folder in ("lifecycle", "storage", "handlers", "states"):
        for path in (ROOT / folder).rglob("*.py"):
            named |= set(re.findall(r"\bSCR_[A-Z_]+[A-Z]\b", path.read_text()))
    named -= {"SCR_BELOW_CRITERIA"}  # a refusal reason's name, not a variable
    assert named and all(f"  {name}" in page for name in named), sorted(
        n for n in named if f"  {n}" not in page)


def test_man_page_is_roff_with_every_command(board_scr):
    """`scr help --man` is a man page: every command's section, triggers, environment and
    exit status, and man renders it when man is installed."""
    page = board_scr.ok("help", "--man").out
    assert page.startswith(".TH SCR 1\n")
    for section in ("NAME", "SYNOPSIS", "OPTIONS", "COMMANDS", "TRIGGERS", "ENVIRONMENT",
                    "EXIT STATUS"):
        assert f"\n.SH {section}\n" in page
    for command in ("advance", "users add", "audit verify", "show"):
        assert f"\n.SS {command}\n" in page
    assert not [line for line in page.splitlines() if line[:1] == "'"]
    man = shutil.which("man")
    if man is None:
        pytest.skip("man is not installed: the page is checked as text only")
    shown = subprocess.run([man, "-l", "-"], input=page, capture_output=True, text=True,
                           env={**os.environ, "MANPAGER": "cat", "MANWIDTH": "100"})
    assert shown.returncode == 0 and "advance" in shown.stdout


def test_help_and_completion_are_not_shell_commands(board_scr):
    """Inside scr shell, help stays the shell's own and completion is not offered."""
    result = board_scr("shell", stdin="help advance\ncompletion bash\n")
    assert result.out.startswith("usage: advance")
    assert "unknown command 'completion'" in result.err
