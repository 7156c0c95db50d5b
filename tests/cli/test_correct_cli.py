"""`scr cases correct`: a recorded day or value corrected by the business manager with a
reason, on the record (issue 25, item 4). Run in-process through the command line's entry
point on a CSPR version 2 case: the original stays in history, the clocks that count from
it are planned again, and the record verifies."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from scr.lifecycle.cli.main import run
from scr.lifecycle.core.engine import Engine
from scr.states.config import ProcessConfig
from scr.states.working_days import WorkingDays
from scr.storage.db import make_engine
from tests import records
from tests.board import BM, HEALTH, REVIEWER, Board
from tests.cli.conftest import _copy_db
from tests.cli.scr import dump, in_process
from tests.conftest import T0
from tests.lifecycle.test_regimes import CSPR_REFERRAL, cspr_at_decision, decide

H = timedelta(hours=1)
DAYS = WorkingDays()
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def board(tmp_path, board_template, monkeypatch) -> tuple[Path, dict[str, str]]:
    _copy_db(board_template, tmp_path)
    db = make_engine(f"sqlite:///{tmp_path / 'scr.db'}")
    try:
        b = Board(db, Engine(ProcessConfig(start=("cspr", "2")), check_snapshots=True))
        notified = b.refer({**CSPR_REFERRAL, "aware_on": "2026-11-23"}, at=T0)
        b.fire(notified, "record_notification", at=T0 + H, date="2026-11-23")
        reviewed = cspr_at_decision(b, at=T0 + 2 * H)
        decide(b, reviewed, "local_review", at=T0 + 20 * H)
    finally:
        db.dispose()
    in_process(monkeypatch, tmp_path, now=NOW)
    return tmp_path, {"notified": notified, "reviewed": reviewed}


def scr(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = run(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def rapid_review_due(folder: Path, ref: str) -> date:
    db = make_engine(f"sqlite:///{folder / 'scr.db'}")
    try:
        [due] = [t for t in records.case_timers(db, ref, "pending")
                 if t.name == "rapid_review.due"]
    finally:
        db.dispose()
    return DAYS.local_date(due.due_at)


def test_a_wrong_notification_date_is_corrected_and_its_clock_planned_again(board, capsys):
    folder, refs = board
    ref = refs["notified"]
    assert rapid_review_due(folder, ref) == date(2026, 12, 14)  # 15 WD from Mon 23 Nov
    status, out, err = scr(capsys, "--as", BM, "--json", "cases", "correct", ref,
                           "notified_on=2026-11-24", "--reason", "the Panel's receipt says 24")
    assert status == 0, err
    done = json.loads(out)
    assert (done["field"], done["from"], done["to"]) == ("notified_on", "2026-11-23",
                                                          "2026-11-24")
    assert rapid_review_due(folder, ref) == date(2026, 12, 15)
    db = make_engine(f"sqlite:///{folder / 'scr.db'}")
    row = records.case_history(db, ref)[-1]
    db.dispose()
    assert (row.trigger, row.actor, row.reason) == ("correct", BM,
                                                    "the Panel's receipt says 24")
    assert row.params == {"field": "notified_on", "from": "2026-11-23", "to": "2026-11-24"}
    status, out, _ = scr(capsys, "history", ref)
    assert "Corrected notified on: 2026-11-23 → 2026-11-24" in out
    status, out, err = scr(capsys, "audit", "verify")
    assert status == 0, err
    # The notification stays recorded once: a second one is still refused.
    status, _, err = scr(capsys, "--as", BM, "advance", ref, "record_notification",
                         "date=2026-11-24")
    assert status == 3 and err.startswith("error:")


def test_a_lead_reviewer_is_corrected_to_one_of_the_board_s_users(board, capsys):
    """The reviewer named at commissioning is replaced by another of the board's lead
    reviewers (one who left, one named wrongly): the case's own field, the old name kept in
    history; an unknown name, or the same one, is bad input."""
    _, refs = board
    ref = refs["reviewed"]
    status, _, err = scr(capsys, "--as", BM, "cases", "correct", ref,
                         "lead_reviewer=Lee Reveiwer", "--reason", "typo")
    assert status == 2 and err.count("\n") == 1
    assert "no active user called 'Lee Reveiwer' holds the role lead_reviewer" in err
    status, _, err = scr(capsys, "--as", BM, "cases", "correct", ref,
                         f"lead_reviewer={REVIEWER}", "--reason", "typo")
    assert status == 2 and f"records {REVIEWER} already" in err
    status, _, err = scr(capsys, "--as", BM, "users", "add", "Rae Reviewer", "--email",
                         "rae@board.test", "--role", "lead_reviewer")
    assert status == 0, err
    status, out, err = scr(capsys, "--as", BM, "--json", "cases", "correct", ref,
                           "lead_reviewer=Rae Reviewer", "--reason", "Lee has left the board")
    assert status == 0, err
    assert (json.loads(out)["from"], json.loads(out)["to"]) == (REVIEWER, "Rae Reviewer")
    status, out, _ = scr(capsys, "--json", "show", ref)
    assert json.loads(out)["lead_reviewer"] == "Rae Reviewer"
    status, out, _ = scr(capsys, "history", ref)
    assert f"Corrected lead reviewer: {REVIEWER} → Rae Reviewer" in out


@pytest.mark.parametrize(("args", "status", "said"), [
    (["summary=x"], 2, "not a value a correction may change"),
    (["rapid_review_sent_on=2026-11-24"], 2, "nothing is recorded"),
    (["notified_on=2027-01-05"], 2, "in the future"),
    (["notified_on=24/11/2026"], 2, "not a date"),
    (["notified_on"], 2, "expected FIELD=VALUE"),
])
def test_bad_corrections_write_nothing(board, capsys, args, status, said):
    folder, refs = board
    before = dump(folder)
    code, _, err = scr(capsys, "--as", BM, "cases", "correct", refs["notified"], *args,
                       "--reason", "r")
    assert (code, err.count("\n")) == (status, 1) and err.startswith("error:")
    assert said in err
    assert dump(folder) == before


def test_only_a_business_manager_corrects(board, capsys):
    folder, refs = board
    before = dump(folder)
    code, _, err = scr(capsys, "--as", HEALTH, "cases", "correct", refs["notified"],
                       "notified_on=2026-11-24", "--reason", "r")
    assert code == 3 and "only a business manager" in err
    code, _, err = scr(capsys, "--as", BM, "cases", "correct", refs["notified"],
                       "notified_on=2026-11-24")
    assert code == 2 and "--reason" in err
    assert dump(folder) == before
