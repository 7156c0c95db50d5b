"""Two sweeps at once, each with its own connection pool as two daemons would have, fire
every due timer exactly once (SQLite: BEGIN IMMEDIATE and the conditional claim;
PostgreSQL: SKIP LOCKED on the case and the conditional claim)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from scr.lifecycle.core.engine import Engine
from scr.lifecycle.runtime.sweep import SweepReport, sweep
from scr.storage.db import make_engine, transaction
from scr.storage.migrate import upgrade
from scr.storage.models import History, Timer
from tests.board import BM, SCR_REFERRAL, Board
from tests.conftest import T0

CASES = 60


def test_two_concurrent_sweeps_fire_each_timer_once(db_url):
    """Two sweeps racing over 60 due reminders share them out; none fires twice."""
    setup = make_engine(db_url)
    upgrade(setup)
    board = Board(setup)
    board.seed_users()
    manager = board.actor(BM)
    with transaction(setup) as tx:
        for i in range(CASES):
            board.engine.refer(tx, actor=manager, params=SCR_REFERRAL,
                               now=T0 + timedelta(minutes=i))
    now = T0 + timedelta(days=3, hours=2)  # every triage reminder is due, no escalation
    engines = [make_engine(db_url) for _ in range(2)]
    reports: list[SweepReport] = []
    start = threading.Barrier(2)

    def run(db) -> None:
        start.wait()
        reports.append(sweep(db, Engine(check_snapshots=True), now))

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        fired = Counter(f.case_ref for r in reports for f in r.of("fired"))
        assert len(fired) == CASES and set(fired.values()) == {1}
        assert all(r.errors == [] for r in reports)
        with Session(setup) as s:
            statuses = dict(s.execute(select(Timer.status, func.count())
                                      .where(Timer.level == "reminder")
                                      .group_by(Timer.status)).all())
            per_case = Counter(s.execute(select(History.case_id)
                                         .where(History.trigger == "timer")).scalars())
        assert statuses == {"fired": CASES}
        assert len(per_case) == CASES and set(per_case.values()) == {1}
    finally:
        for e in (*engines, setup):
            e.dispose()


def test_a_case_left_locked_keeps_its_later_timers_for_the_next_wake_too(pg_migrated_url):
    """PostgreSQL: the sweep finds a case locked by someone else at its first due timer and
    leaves it; the lock is let go before the sweep reaches the case's next due timer (of
    another ladder). That timer waits too: a case's timers fire in due order, and on the
    next wake both fire, the earlier first. (Seen under kills: a killed daemon's backend held
    a publishing case until mid-sweep, and the long-hold escalation fired before the
    publication it should have been disarmed by.)"""
    from sqlalchemy import event, text

    from scr.lifecycle.core.engine import Engine
    from scr.states.config import ProcessConfig
    from tests.lifecycle.sweeping import history

    db = make_engine(pg_migrated_url)
    board = Board(db, Engine(ProcessConfig(start=("cspr", None))))
    board.seed_users()
    ref = board.refer({**SCR_REFERRAL, "aware_on": "2026-11-18", "looked_after": False}, at=T0)
    now = T0 + timedelta(days=14)  # the notification (from awareness) and the triage are due
    other = make_engine(pg_migrated_url)
    holder = other.connect()
    held = holder.begin()
    holder.execute(text("SELECT id FROM cases WHERE ref = :ref FOR UPDATE"), {"ref": ref})

    def let_go(conn, cursor, statement, *_):
        if "SKIP LOCKED" in statement and held.is_active:
            held.commit()  # after the sweep found the case locked once

    event.listen(db, "after_cursor_execute", let_go)
    try:
        first = sweep(db, board.engine, now)
    finally:
        event.remove(db, "after_cursor_execute", let_go)
        holder.close()
        other.dispose()
    assert not first.of("fired", "blocked") and first.busy >= 2
    second = sweep(db, board.engine, now)
    fired = [f.timer for f in second.of("fired", "blocked")]
    assert fired[0].startswith("notification.") and any(f.startswith("triage.") for f in fired)
    assert [h.trigger for h in history(board, ref)][1:] == ["timer"] * len(fired)
    db.dispose()
