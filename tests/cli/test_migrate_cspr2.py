"""Moving a board's running CSPR version 1 cases onto version 2 with `scr cases migrate`
(run in-process through the command line's entry point), a dry run first: a case in every
state, some part-way through their ladders; those version 2 would not have let into the
rapid review stay where they are, with the reason; the record verifies after the move."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from scr.lifecycle.cli.main import run
from scr.lifecycle.core.engine import Engine
from scr.lifecycle.runtime.sweep import sweep
from scr.states.config import ProcessConfig
from scr.states.working_days import WorkingDays
from scr.storage.db import make_engine
from tests import records
from tests.board import BM, CONSTABLE, REVIEWER, Board
from tests.cli.conftest import _copy_db
from tests.cli.scr import dump, in_process
from tests.conftest import T0
from tests.lifecycle.test_regimes import (
    CSPR_REFERRAL,
    cspr_at_decision,
    cspr_published_ready,
    decide,
)

H = timedelta(hours=1)
DAYS = WorkingDays()
# The cases move on Tuesday 15 December 2026 at noon (GMT).
MOVED_AT = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
FROM_TO = ["--from", "cspr:1", "--to", "cspr:2"]


def a_board_of_cspr_1_cases(board: Board) -> dict[str, str]:
    """A case of cspr version 1 in every state, by what each shows."""
    refs = {"referral": board.refer({**CSPR_REFERRAL, "pseudonym": "Child A"}, at=T0)}
    # Version 1 ran the rapid review without a notification, and for a looked-after child's
    # death without abuse or neglect: neither may move.
    refs["unnotified"] = board.refer({**CSPR_REFERRAL, "pseudonym": "Child B"}, at=T0 + H)
    board.fire(refs["unnotified"], "request_information", at=T0 + 2 * H, agencies="health")
    refs["looked_after"] = board.refer(
        {**CSPR_REFERRAL, "pseudonym": "Child C", "abuse": "not_suspected",
         "looked_after": True}, at=T0 + 3 * H)
    board.fire(refs["looked_after"], "record_notification", at=T0 + 4 * H, date="2026-11-23")
    board.fire(refs["looked_after"], "request_information", at=T0 + 5 * H, agencies="health")
    refs["deciding"] = cspr_at_decision(board, at=T0 + 6 * H, pseudonym="Child D")
    # A local review with criminal proceedings pending: version 1 ran no clock for it.
    refs["review"] = cspr_at_decision(board, at=T0 + 20 * H, pseudonym="Child E",
                                      criminal_proceedings=True)
    decide(board, refs["review"], "local_review", at=T0 + 30 * H)
    refs["hold"] = cspr_published_ready(board, before=T0 + 100 * H)
    refs["published"] = cspr_published_ready(board, before=T0 + 200 * H)
    board.fire(refs["published"], "send_prepublication_notice", at=T0 + 200 * H)
    board.fire(refs["published"], "publish", at=datetime(2026, 12, 10, 10, tzinfo=UTC))
    refs["closed"] = cspr_at_decision(board, at=T0 + 40 * H, pseudonym="Child F")
    decide(board, refs["closed"], "no_review", at=T0 + 50 * H)
    sweep(board.db, board.engine, datetime(2026, 12, 4, 12, tzinfo=UTC))  # reminders go out
    return refs


@pytest.fixture
def board(tmp_path, board_template, monkeypatch) -> tuple[Path, dict[str, str]]:
    _copy_db(board_template, tmp_path)
    url = f"sqlite:///{tmp_path / 'scr.db'}"
    db = make_engine(url)
    try:
        refs = a_board_of_cspr_1_cases(
            Board(db, Engine(ProcessConfig(start=("cspr", "1")), check_snapshots=True)))
    finally:
        db.dispose()
    in_process(monkeypatch, tmp_path, now=MOVED_AT)
    return tmp_path, refs


def scr(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = run(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_a_board_s_cspr_1_cases_move_to_version_2_after_a_dry_run(board, capsys):
    folder, refs = board
    db = make_engine(f"sqlite:///{folder / 'scr.db'}")
    mailed = len(records.mail(db))
    before = dump(folder)
    status, out, err = scr(capsys, "--as", BM, "--json", "cases", "migrate", *FROM_TO,
                           "--dry-run")
    assert status == 0, err
    planned = json.loads(out)
    assert dump(folder) == before  # a dry run writes nothing
    status, out, err = scr(capsys, "--as", BM, "--json", "cases", "migrate", *FROM_TO)
    assert status == 0, err
    done = json.loads(out)
    assert [m["ref"] for m in done["moved"]] == [m["ref"] for m in planned["moved"]]
    moved = {m["ref"]: m for m in done["moved"]}
    assert set(moved) == {refs[k] for k in ("referral", "deciding", "review", "hold",
                                             "published")}
    stuck = {s["ref"]: " ".join(s["reasons"]) for s in done["stuck"]}
    assert set(stuck) == {refs["unnotified"], refs["looked_after"]}
    assert "without the prior serious incident notification" in stuck[refs["unnotified"]]
    assert "not a serious child safeguarding case" in stuck[refs["looked_after"]]
    # Those that stayed are as they were, under version 1; the finished one too.
    status, out, _ = scr(capsys, "--json", "show", refs["unnotified"])
    assert json.loads(out)["process_version"] == "1"
    status, out, _ = scr(capsys, "--json", "show", refs["closed"])
    assert json.loads(out)["process_version"] == "1"

    # The review with proceedings pending (decided on Tuesday 24 November 2026) now has its
    # own deadline, 6 months on; progress is checked a month on; the rapid review, due 15
    # working days from its notification (24 November) and never sent, is now past due: it
    # stays pending, so the daemon chases it once.
    review = {t["name"]: DAYS.local_date(datetime.fromisoformat(t["due_at"]))
              for t in moved[refs["review"]]["timers"]}
    assert review["review_due.due"] == date(2027, 5, 24)
    assert review["review_due.reminder"] == date(2027, 4, 26)
    assert review["progress_check.check"] == date(2026, 12, 24)
    assert review["rapid_review.due"] == date(2026, 12, 15)
    # The move sends no notice; the calendars of whoever holds a deadline it added, moved or
    # withdrew are updated, as after a trigger: the review's new deadline reaches the
    # partners, the business manager and the scrutineer.
    sent = records.mail(db)[mailed:]
    db.dispose()
    assert sent and {m.template for m in sent} == {"calendar_update"}
    due = {m.recipient for m in sent if m.case_ref == refs["review"]
           and "Local review due" in m.subject}
    assert due == {"la@board.test", "icb@board.test", "constable@board.test", "bm@board.test",
                   "scrutineer@board.test", "chief@board.test", "pchair@board.test"}
    assert moved[refs["deciding"]]["to_state"] == "chair_decision"

    status, out, err = scr(capsys, "audit", "verify")
    assert status == 0, err
    assert out.startswith("history intact: 8 cases")
    status, out, _ = scr(capsys, "history", refs["review"])
    assert "Moved from version 1 to version 2, by Bea Manager" in out
    # A moved case runs on under version 2: its rapid review goes to the Panel.
    status, _, err = scr(capsys, "--as", CONSTABLE, "advance", refs["review"],
                         "send_rapid_review", "date=2026-12-15")
    assert status == 0, err
    status, _, err = scr(capsys, "--as", REVIEWER, "advance", refs["review"],
                         "complete_review", "report=Final report")
    assert status == 0, err
