"""How many SQL statements one command costs, counted through SQLAlchemy's own cursor events
(storage/prepared.py tells them of its statements too, so nothing on a trigger's path
hides). The command line runs in-process, through its own entry point.

The target (docs/architecture.md): `scr advance` at most 15 statements, met: 47 before
the printout took the engine's snapshot, 40 after, 27 once the printout read nothing more
(its words come from what the engine returns; --json reads the whole case), the schema
check needed no savepoint on SQLite and a user came with their roles in one statement, 23
once the seal read the referral, the proceedings and which later tables the case has rows
in together, and meetings with their attendance (the snapshot too), 16 once the snapshot
and the seal each first ask which tables the case has rows in and read only those (a case
asking for information has no meetings, outputs or actions yet), 15 once the trigger
reads the case's row and its snapshot's head in one statement."""

from __future__ import annotations

import pytest

from scr.lifecycle.cli.main import run
from tests.board import BM
from tests.cli.conftest import AFTER_TEMPLATE, CASE_REF, _copy_db
from tests.cli.scr import scr_v1_config
from tests.statements import counted

ADVANCE_CEILING = 15  # the target


@pytest.fixture
def board(tmp_path, case_template, monkeypatch):
    """The case template's board, for `scr` run in this process."""
    _copy_db(case_template, tmp_path)
    for name, value in {"SCR_DATABASE_URL": f"sqlite:///{tmp_path / 'scr.db'}",
                        "SCR_MAIL_DIR": str(tmp_path / "mail"), "SCR_CONFIG": str(scr_v1_config()),
                        "SCR_ALLOW_CLOCK_OVERRIDE": "1", "SCR_NOW": AFTER_TEMPLATE}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SCR_CHECK_VIEWS", raising=False)
    return tmp_path


def test_scr_advance_costs_no_more_statements_than_it_did(board, capsys):
    with counted() as seen:
        status = run(["--as", BM, "advance", CASE_REF, "add_agency", "agency=education"])
    assert status == 0, capsys.readouterr().err
    assert 0 < len(seen) <= ADVANCE_CEILING, "\n".join(seen)


def test_the_count_sees_the_prepared_statements_of_a_trigger(board):
    """The history row's INSERT runs on the driver's cursor (storage/prepared.py); the
    count sees it."""
    with counted() as seen:
        assert run(["--as", BM, "advance", CASE_REF, "add_agency", "agency=education"]) == 0
    assert any(s.lstrip().startswith("INSERT INTO history") for s in seen)
