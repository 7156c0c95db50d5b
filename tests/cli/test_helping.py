"""`scr help`, `scr completion bash|zsh` and `scr complete`, run as the real command: pages
generated from the parser and the definitions, and a bash completion script that, sourced
in bash, completes commands, options, case references, triggers and quoted names."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
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


def bash_complete(scr: Scr, tmp_path: Path, *words: str) -> list[str]:
    """COMPREPLY after the generated script is sourced in bash and its function called as
    bash calls it: COMP_WORDS and COMP_CWORD, and COMP_LINE up to the cursor."""
    script = tmp_path / "scr.bash"
    script.write_text(scr.ok("completion", "bash").out)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    program = bin_dir / "scr"
    program.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m lifecycle.cli "$@"\n')
    program.chmod(0o755)
    line = _line(words)
    run = subprocess.run(
        ["bash", "-c", 'source "$1"; COMP_LINE=$2; COMP_POINT=${#2}; shift 2; '
         'COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _scr_complete; '
         'printf "%s\\n" "${COMPREPLY[@]}"', "_", str(script), line, *words],
        env={**scr.env, "PATH": f"{bin_dir}:{os.environ['PATH']}"}, cwd=scr.cwd,
        capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return [w for w in run.stdout.split("\n") if w]


def _line(words: tuple[str, ...]) -> str:
    """The line bash saw: its words, with `=` joined to what it broke off."""
    line = ""
    for word in words:
        line += word if word == "=" or line.endswith("=") or not line else " " + word
    return line


def test_bash_completes_commands_options_refs_triggers_and_quoted_names(board_scr, tmp_path):
    """The generated script, sourced in bash: commands and global options at once, and
    from `scr complete` case references, the triggers that apply, KEY= names, values,
    and names with spaces, escaped or finishing the quote that was begun."""
    scr = board_scr
    assert bash_complete(scr, tmp_path, "scr", "sh") == ["show ", "shell "]
    assert "--config " in bash_complete(scr, tmp_path, "scr", "--con")
    assert bash_complete(scr, tmp_path, "scr", "show", "CR-2026") == [f"{CASE_REF} "]
    assert bash_complete(scr, tmp_path, "scr", "advance", CASE_REF, "record_r") == [
        "record_return "]
    assert bash_complete(scr, tmp_path, "scr", "advance", CASE_REF, "record_return",
                         "ag") == ["agency="]
    assert bash_complete(scr, tmp_path, "scr", "advance", CASE_REF, "record_return",
                         "agency", "=", "hea") == ["health "]
    assert bash_complete(scr, tmp_path, "scr", "--as", "Bea") == ["Bea\\ Manager "]
    assert bash_complete(scr, tmp_path, "scr", "--as", '"Bea M') == ['"Bea Manager" ']
    assert bash_complete(scr, tmp_path, "scr", "--as", "'Ivy") == ["'Ivy Chair' "]
    assert bash_complete(scr, tmp_path, "scr", "--as", f"'{BM}'", "list", "--state", "pub") == [
        "publication_hold ", "published "]
    assert bash_complete(scr, tmp_path, "scr", "completion", "") == ["bash ", "zsh "]


def test_complete_for_zsh_gives_the_word_and_unquoted_candidates(board_scr):
    """`scr complete --for zsh` prints the word typed so far, then each candidate
    unquoted, marked finished (F) or open (O)."""
    out = board_scr.ok("complete", "--for", "zsh", "--",
                       f'scr advance {CASE_REF} record_return agency=he').out
    assert out.splitlines() == ["agency=he", "F agency=health"]
    out = board_scr.ok("complete", "--for", "zsh", "--", 'scr --as "Bea').out
    assert out.splitlines() == ["Bea", "F Bea Manager"]


def test_zsh_script_is_generated_and_well_formed(scr):
    """The zsh script names its function for compdef, lists the commands, and asks `scr
    complete --for zsh`; zsh itself checks its syntax when it is installed."""
    script = scr.ok("completion", "zsh").out
    assert script.startswith("#compdef scr\n") and script.rstrip().endswith("compdef _scr scr")
    assert "'advance:fire a trigger on a case'" in script
    assert "complete --for zsh --" in script and "'complete:" not in script
    assert script.count("{") == script.count("}")
    zsh = shutil.which("zsh")
    if zsh is None:
        if os.environ.get("CI") == "true":
            pytest.fail("zsh is missing under CI=true: .ci/run installs it")
        pytest.skip("zsh is not installed here: the zsh script is checked as text only")
    check = subprocess.run([zsh, "-n"], input=script, capture_output=True, text=True)
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
