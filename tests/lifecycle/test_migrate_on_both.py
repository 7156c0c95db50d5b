"""Moving CSPR version 1 cases onto version 2 on SQLite and on PostgreSQL alike: the case
read for the move is locked as a trigger's is (`FOR UPDATE OF cases` on PostgreSQL), the
history row is sealed and chained, and the record verifies after it."""

from __future__ import annotations

from datetime import timedelta

from scr.lifecycle.core.engine import Engine
from scr.lifecycle.core.migrating import Migrator, Move, Stuck
from scr.states.config import ProcessConfig
from scr.states.migration import find, shipped
from scr.states.registry import REGISTRY
from scr.storage import history
from scr.storage.db import reading, transaction
from tests.board import BM, Board
from tests.conftest import T0
from tests.lifecycle.test_regimes import CSPR_REFERRAL, cspr_at_decision, decide

H = timedelta(hours=1)


def test_cspr_1_cases_move_to_version_2_and_the_record_verifies(db):
    board = Board(db, Engine(ProcessConfig(start=("cspr", "1")), check_snapshots=True))
    board.seed_users()
    review = cspr_at_decision(board, at=T0, criminal_proceedings=True)
    decide(board, review, "local_review", at=T0 + 10 * H)
    waiting = board.refer({**CSPR_REFERRAL, "pseudonym": "Child W"}, at=T0 + 11 * H)
    unnotified = board.refer({**CSPR_REFERRAL, "pseudonym": "Child U"}, at=T0 + 12 * H)
    board.fire(unnotified, "request_information", at=T0 + 13 * H, agencies="health")

    migration, _, _ = find(shipped(), REGISTRY, "cspr", "1", "2")
    processes = board.engine.processes
    migrator = Migrator(migration, processes.get("cspr", "1"), processes.get("cspr", "2"))
    found = {}
    for ref in (review, waiting, unnotified):
        with transaction(db) as tx:
            found[ref] = migrator.move(tx, ref, actor=board.actor(BM), now=T0 + 20 * H)
    assert isinstance(found[review], Move) and isinstance(found[waiting], Move)
    assert isinstance(found[unnotified], Stuck)
    assert {t.name for t in found[review].timers} >= {"review_due.due",
                                                       "progress_check.check"}
    assert (board.case(review).definition_version, board.case(unnotified)
            .definition_version) == ("2", "1")
    with reading(db) as tx:
        walk = history.verify(tx)
    assert walk.breaks == [] and walk.sealed == walk.cases == 3
