"""Several real `scr daemon` processes on one PostgreSQL database share the due timers and
fire each exactly once."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from scr.storage.models import History, Timer
from tests import records
from tests.cli.daemons import (
    DUE_REMINDERS,
    clone_cases,
    count_fired,
    daemon,
    iso,
    refer_many,
    seeded_board,
    wait_for,
    whole,
)
from tests.cli.scr import Scr
from tests.conftest import T0

DUE = 500


def test_two_daemons_on_postgresql_fire_500_due_timers_each_once(tmp_path, pg_url):
    """Two daemons started together over 500 due reminders: both work, every timer is fired
    by exactly one of them, with exactly one history row, and both stop cleanly."""
    board = seeded_board(pg_url)
    try:
        [first] = refer_many(board, 1, T0)
        refs = [first, *clone_cases(board, first, DUE - 1)]
        scr = Scr.in_dir(tmp_path, database_url=pg_url, SCR_NOW=iso(T0 + DUE_REMINDERS))
        with daemon(scr, name="a") as a, daemon(scr, name="b") as b:
            wait_for(lambda: count_fired(board.db) == DUE, timeout=40, what="500 firings")
            for running in (a, b):
                code, took = running.stop()
                assert code == 0 and took < 10
            by_daemon = [Counter((e["case_ref"], e["timer"]) for e in d.named("timer.fired"))
                         for d in (a, b)]
        assert all(len(c) > 0 for c in by_daemon), "both daemons should have fired some"
        assert not set(by_daemon[0]) & set(by_daemon[1])
        together = by_daemon[0] + by_daemon[1]
        assert len(together) == DUE and set(together.values()) == {1}
        assert {ref for ref, _ in together} == set(refs)
        assert whole(board.db) == {"fired": DUE, "pending": DUE}  # escalations ahead
        with records.orm(board.db) as s:
            per_case = Counter(s.execute(select(History.case_id)
                                         .where(History.trigger == "timer")).scalars())
            statuses = dict(s.execute(select(Timer.level, func.count())
                                      .where(Timer.status == "fired")
                                      .group_by(Timer.level)).all())
        assert len(per_case) == DUE and set(per_case.values()) == {1}
        assert statuses == {"reminder": DUE}
    finally:
        board.db.dispose()
