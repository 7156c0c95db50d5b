"""`scr cases migrate` on the command line, run in this process through its own entry point
(scr.lifecycle.cli.main.run) with the throwaway `cspr` version 99 of
tests/lifecycle/test_migrate.py and its migration composed in, as a board would ship them.

The board's users come from the real command (tests/cli/conftest.py); its cases are made
through the engine at fixed moments, and the clock is SCR_NOW in training mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scr.lifecycle.cli.main import run
from scr.lifecycle.core.engine import Engine
from scr.states.config import ProcessConfig
from scr.storage.db import make_engine
from tests.board import BM, CHAIR, Board
from tests.cli.conftest import _copy_db
from tests.cli.scr import dump, in_process
from tests.lifecycle.test_migrate import MIGRATION, MOVED_AT, REGISTRY_99, a_board_of_cases

FROM, TO = ["--from", "cspr:1"], ["--to", "cspr:99"]


@pytest.fixture
def board(tmp_path, board_template, monkeypatch) -> tuple[Path, dict[str, str]]:
    """The board's users, its cases of cspr version 1 (and one SCR), and `scr` set to run
    at the moment they move."""
    _copy_db(board_template, tmp_path)
    url = f"sqlite:///{tmp_path / 'scr.db'}"
    db = make_engine(url)
    try:
        refs = a_board_of_cases(Board(db, Engine(ProcessConfig(start=("cspr", "1")),
                                                 registry=REGISTRY_99)))
    finally:
        db.dispose()
    in_process(monkeypatch, tmp_path, now=MOVED_AT)
    return tmp_path, refs


def scr(capsys, *args: str) -> tuple[int, str, str]:
    """`scr ARGS` with version 99 and its migration known: status, stdout, stderr."""
    capsys.readouterr()
    status = run(list(args), registry=REGISTRY_99, migrations=(MIGRATION,))
    out, err = capsys.readouterr()
    return status, out, err


def test_the_cases_move_and_the_record_still_verifies(board, capsys):
    _, refs = board
    status, out, err = scr(capsys, "--as", BM, "--json", "cases", "migrate", *FROM, *TO)
    assert status == 0, err
    done = json.loads(out)
    assert (done["process"], done["from_version"], done["to_version"], done["dry_run"]) == (
        "cspr", "1", "99", False)
    assert [m["ref"] for m in done["moved"]] == [refs[k] for k in ("mid", "chased", "meeting",
                                                                    "fresh")]
    mid = done["moved"][0]
    assert (mid["pseudonym"], mid["from_state"], mid["to_state"]) == ("Child A", "referral",
                                                                      "referral")
    assert [(t["name"], t["due_at"]) for t in mid["timers"]] == [
        ("notification.due", "2026-11-27T09:00:00+00:00"),
        ("triage.escalation", "2026-11-30T10:00:00+00:00")]
    assert done["stuck"] == [{
        "ref": refs["deciding"], "pseudonym": "Child P", "state": "chair_decision",
        "reasons": ["its state chair_decision has no counterpart in version 99, and the "
                    "migration maps it to none"]}]

    status, out, err = scr(capsys, "audit", "verify")
    assert status == 0, err
    assert out.startswith("history intact: 7 cases")
    status, out, _ = scr(capsys, "history", refs["meeting"])
    assert status == 0 and "Moved from version 1 to version 99, by Bea Manager" in out
    assert "Rapid review meeting" in out.splitlines()[-1]
    status, out, _ = scr(capsys, "--json", "show", refs["meeting"])
    assert status == 0 and json.loads(out)["process_version"] == "99"
    for command in ("timeline", "triggers"):
        assert scr(capsys, command, refs["meeting"])[0] == 0


def test_a_dry_run_says_what_would_move_and_writes_nothing(board, capsys):
    folder, refs = board
    before = dump(folder)
    status, out, err = scr(capsys, "--as", BM, "cases", "migrate", "--dry-run", *FROM, *TO,
                           refs["mid"], refs["deciding"])
    assert status == 0, err
    assert out.splitlines() == [
        "dry run, nothing written: cspr version 1 -> version 99: 1 case would move, 1 cannot "
        "move",
        f"  {refs['mid']} (Child A): referral -> referral",
        "      notification.due due Fri 27 Nov 2026 09:00",
        "      triage.escalation due Mon 30 Nov 2026 10:00",
        "      notification.reminder not armed: it went out already",
        "      triage.reminder not armed: it went out already",
        f"  {refs['deciding']} (Child P): cannot move from chair_decision",
        "      because its state chair_decision has no counterpart in version 99, and the "
        "migration maps it to none",
    ]
    status, out, _ = scr(capsys, "--as", BM, "--json", "cases", "migrate", "--dry-run",
                         *FROM, *TO)
    assert status == 0 and json.loads(out)["dry_run"] is True
    assert dump(folder) == before


@pytest.mark.parametrize(("args", "status", "message"), [
    ([*FROM, "--to", "cspr:7"], 2, "no process definition cspr version 7"),
    (["--from", "cspr:7", *TO], 2, "no process definition cspr version 7"),
    ([*FROM, "--to", "cspr:1"], 2, "--from and --to are both cspr version 1"),
    (["--from", "cspr:99", "--to", "cspr:1"], 2, "no migration is declared"),
    ([*FROM, "--to", "scr:2"], 2, "another version of its own process"),
    (["--from", "cspr", *TO], 2, "expected NAME:VERSION"),
    ([*FROM, *TO, "CR-2026-0999"], 2, "unknown case 'CR-2026-0999'"),
    ([*FROM, *TO, "{other}"], 2, "runs under scr version 1, not cspr version 1"),
    ([*FROM, *TO], 3, "may not move cases"),
])
def test_bad_input_and_refusals_write_nothing(board, capsys, args: list[Any], status: int,
                                              message: str):
    folder, refs = board
    before = dump(folder)
    actor = CHAIR if status == 3 else BM
    words = [a.format(**refs) for a in args]
    found, out, err = scr(capsys, "--as", actor, "cases", "migrate", *words)
    assert (found, out) == (status, "")
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert dump(folder) == before
