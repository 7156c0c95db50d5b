"""The real `scr daemon` on SQLite: one per database, prompt at a due moment, delivering
mail, and stopped by SIGTERM mid-sweep with every case whole."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from scr.storage.db import transaction
from scr.storage.models import History, Timer
from scr.storage.tables import OUTBOX
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


def test_second_sqlite_daemon_refuses_and_the_lock_dies_with_its_holder(tmp_path, sqlite_url):
    """While one daemon runs, a second exits 3 with one `error:` line; once the first is
    killed (even with SIGKILL) a new one starts, and SIGTERM stops it with status 0."""
    seeded_board(sqlite_url).db.dispose()
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)
    with daemon(scr, name="first") as first:
        wait_for(lambda: first.named("daemon.started"), timeout=10, what="the first daemon")
        second = scr("daemon", timeout=20)
        assert second.code == 3
        assert second.err.count("\n") == 1 and second.err.startswith("error: another scr "
                                                                     "daemon (pid ")
        assert "on SQLite only one daemon may run" in second.err
        assert str(first.proc.pid) in second.err
        first.proc.kill()
        first.proc.wait(10)
    with daemon(scr, name="third") as third:
        wait_for(lambda: third.named("daemon.started"), timeout=10, what="the third daemon")
        code, took = third.stop()
        assert code == 0 and took < 10
        assert third.named("daemon.stopped")


def test_sigterm_mid_sweep_leaves_every_case_before_or_after_each_firing(tmp_path,
                                                                        sqlite_url):
    """SIGTERM while 150 due reminders are being fired: exit 0 within 10 s, each fired
    timer has exactly its history row and JSON event, each pending one none; a tick then
    fires the rest, once."""
    board = seeded_board(sqlite_url)
    [first] = refer_many(board, 1, T0)
    clone_cases(board, first, 149)
    now = iso(T0 + DUE_REMINDERS)
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)
    try:
        with daemon(scr, SCR_NOW=now) as running:
            wait_for(lambda: count_fired(board.db) >= 5, timeout=15, what="firings")
            code, took = running.stop()
            assert code == 0 and took < 10
            counts = whole(board.db)
            assert 0 < counts["fired"] < 150, "the sweep should have been interrupted"
            logged = running.named("timer.fired")
            assert len(logged) == counts["fired"]
            assert len({e["case_ref"] for e in logged}) == counts["fired"]
            assert all(e["timer"] == "triage.reminder" and e["pseudonym"] == "Child K"
                       for e in logged)
            assert "summary" not in json.dumps(running.events())
        tick = scr.ok("--now", now, "tick", "--json").json()
        assert len(tick["fired"]) == 150 - counts["fired"]
        assert whole(board.db) == {"fired": 150, "pending": 150}  # escalations still ahead
    finally:
        board.db.dispose()


def test_daemon_wakes_at_the_due_moment_and_delivers(tmp_path, sqlite_url):
    """A reminder falling due 3 s after start-up fires at its due moment, not at the next
    heartbeat (set to 60 s), and its e-mail lands in the maildir. (How soon after the due
    moment is measured by `make bench`, not asserted here.)"""
    board = seeded_board(sqlite_url)
    [ref] = refer_many(board, 1, T0)
    with records.orm(board.db) as s:
        due = s.execute(select(Timer.due_at).where(Timer.name == "triage.reminder")).scalar_one()
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)
    try:
        with daemon(scr, "--interval", "60", SCR_NOW=iso(due - timedelta(seconds=3))) as run:
            wait_for(lambda: run.named("daemon.started"), timeout=10, what="start-up")
            wait_for(lambda: count_fired(board.db), timeout=10, what="the reminder")
            with records.orm(board.db) as s:
                row = s.execute(select(History).where(History.trigger == "timer")).scalar_one()
            assert timedelta(0) <= row.at - row.due_at < timedelta(seconds=30)
            assert row.due_at == due
            mail = tmp_path / "mail" / "new"
            wait_for(lambda: mail.exists() and any(
                "Triage of the referral: reminder" in p.read_text() for p in mail.iterdir()),
                timeout=10, what="the reminder in the maildir")
            [fired] = run.named("timer.fired")
            assert fired["case_ref"] == ref and fired["late_s"] < 30
            code, _took = run.stop()
            assert code == 0
    finally:
        board.db.dispose()


def test_timers_fire_on_time_while_the_mail_server_never_answers(tmp_path, sqlite_url,
                                                                 silent_server):
    """Mail is queued and the mail server accepts the connection but never answers (the
    daemon waits 30 s for it): reminders falling due 3 s after start-up still fire within
    moments, since mail is delivered on a lane of its own. Then SIGTERM stops the daemon
    with status 0, leaving the stuck delivery's messages to their leases."""
    board = seeded_board(sqlite_url)
    refs = refer_many(board, 20, T0)
    with transaction(board.db) as tx:  # the referrals' own e-mail waits to be delivered
        tx.execute(update(OUTBOX).values(status="pending", sent_at=None))
    with records.orm(board.db) as s:
        due = s.execute(select(Timer.due_at).where(Timer.name == "triage.reminder")
                        .limit(1)).scalar_one()
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url,
                     SCR_SMTP_URL=f"smtp://127.0.0.1:{silent_server.port}")
    try:
        with daemon(scr, "--interval", "1", SCR_NOW=iso(due - timedelta(seconds=3))) as run:
            wait_for(lambda: silent_server.connections, timeout=10, what="a delivery")
            wait_for(lambda: count_fired(board.db) == len(refs), timeout=12,
                     what="every reminder, while the mail server hangs")
            # Each firing is logged after its transaction commits: the last line may follow
            # the database by a moment.
            wait_for(lambda: {e["case_ref"] for e in run.named("timer.fired")} == set(refs),
                     timeout=5, what="every firing logged")
            assert silent_server.connections == 1, "one connection a mail wake, still waiting"
            code, took = run.stop(timeout=20)
            assert code == 0 and took < 15
            assert run.named("daemon.mail_abandoned") and run.named("daemon.stopped")
        assert not records.mail(board.db, status="sent")
    finally:
        board.db.dispose()


def test_a_hard_link_to_the_database_does_not_let_a_second_daemon_run(tmp_path, sqlite_url):
    """The one-daemon lock belongs to the database file, not to its name: a second daemon
    reaching the same file through a hard link is refused as well."""
    import os

    seeded_board(sqlite_url).db.dispose()
    original = Path(sqlite_url.removeprefix("sqlite:///"))
    linked = tmp_path / "elsewhere" / "same.db"
    linked.parent.mkdir()
    os.link(original, linked)
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)
    other = Scr.in_dir(tmp_path / "elsewhere", database_url=f"sqlite:///{linked}")
    with daemon(scr, name="first") as first:
        wait_for(lambda: first.named("daemon.started"), timeout=10, what="the first daemon")
        second = other("daemon", timeout=20)
        assert second.code == 3 and second.err.count("\n") == 1
        assert "another path or link" in second.err
        code, _took = first.stop()
        assert code == 0
