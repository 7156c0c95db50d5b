"""The daemon's clock: each lane is one APScheduler job whose next run is the next due moment
in the database (a pending timer, an outbox retry), or its heartbeat when that comes first;
mail the timers queue moves the mail lane to now.

The daemon runs in this process on a real SQLite database, with a real engine, delivering to
a real SMTP server (aiosmtpd). Its clock is set a moment before a timer's due moment (T0 is a
fixed date), so each test waits a few seconds of real time, polling; the
heartbeat is ten minutes, so anything that happens within the test did not wait for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MODIFIED
from sqlalchemy import func, select, text, update

from scr.lifecycle.runtime.daemon import MAIL, TIMERS, WAKE_SLACK, Clock, Daemon
from scr.lifecycle.runtime.sweep import next_due
from scr.lifecycle.settings import MailSettings, Settings
from scr.storage.db import transaction
from scr.storage.models import History, Timer
from scr.storage.tables import OUTBOX
from tests import records
from tests.board import Board
from tests.cli.daemons import wait_for
from tests.conftest import T0

HEARTBEAT = 600.0  # seconds: far beyond any test
CLOSE = timedelta(milliseconds=50)  # two readings of the same moment, taken apart
# How long before a due moment the daemon's clock starts: time for it to start and make its
# first wake before the moment comes, even on a machine two test workers keep busy.
LEAD = timedelta(seconds=4)
# Within moments of its due moment, not at the heartbeat ten minutes on: the bound a busy
# machine's delays stay well inside, and the heartbeat well outside.
PROMPT = timedelta(seconds=30)
WAIT = 40  # seconds a poll waits at most for what should happen within PROMPT


def settings_for(tmp_path: Path, port: int) -> Settings:
    return Settings(mail=MailSettings(mail_dir=tmp_path / "mail",
                                      smtp_url=f"smtp://127.0.0.1:{port}"))


class Lanes:
    """What a test sees of the lanes from the daemon's start, through the scheduler's
    events: each move of a lane's next run (the daemon's `Job.modify`, the only
    EVENT_JOB_MODIFIED), and the scheduled moment of each mail run."""

    def __init__(self) -> None:
        self.daemon: Daemon | None = None
        self.booked: dict[str, list[datetime]] = {TIMERS: [], MAIL: []}
        self.mail_runs: list[datetime] = []

    def listeners(self) -> list[tuple[Callable[[Any], None], int]]:
        return [(self._modified, EVENT_JOB_MODIFIED), (self._executed, EVENT_JOB_EXECUTED)]

    def _modified(self, event: Any) -> None:
        assert self.daemon is not None
        at = self.daemon.next_run(event.job_id)
        if at is not None:
            self.booked[event.job_id].append(at)

    def _executed(self, event: Any) -> None:
        if event.job_id == MAIL:
            self.mail_runs.append(event.scheduled_run_time)


@contextmanager
def running(board: Board, settings: Settings, now: datetime,
            lanes: Lanes | None = None) -> Iterator[Daemon]:
    """The daemon started with its clock at `now` (`lanes` watching it from the start);
    stopped as SIGTERM stops it."""
    daemon = Daemon(board.db, board.engine, settings, clock=Clock(now), interval=HEARTBEAT)
    if lanes is not None:
        lanes.daemon = daemon
    daemon.start(listeners=lanes.listeners() if lanes is not None else ())
    try:
        yield daemon
    finally:
        daemon.stop()
        daemon._finish()


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def earliest_pending(board: Board) -> datetime:
    with records.orm(board.db) as s:
        due = s.execute(select(func.min(Timer.due_at)).where(Timer.status == "pending")
                        ).scalar_one()
    assert due is not None
    return aware(due)


def moved(daemon: Daemon, lane: str) -> datetime | None:
    """The lane's next run, once it is no longer its heartbeat (well before it)."""
    at = daemon.next_run(lane)
    soon = datetime.now(UTC) + timedelta(seconds=HEARTBEAT / 2)
    return at if at is not None and at < soon else None


def test_after_a_wake_the_timers_lane_is_due_at_the_next_timer_then_at_its_heartbeat(
        board, tmp_path, start_server):
    """The first wake finds a reminder due LEAD ahead: the timers job's next run is moved
    to that moment (not left at the heartbeat, ten minutes on), the reminder fires then,
    and with the next pending timer days ahead the job's next run is its heartbeat, an
    interval after the run that fired it. (On a machine so busy that the first wake ends
    after the due moment, the move is to a moment past, and the lane runs at once.)"""
    server = start_server()
    board.refer(at=T0)
    due = earliest_pending(board)
    lanes = Lanes()
    with running(board, settings_for(tmp_path, server.port), due - LEAD, lanes) as d:
        try:
            wait_for(lambda: d.totals.fired, timeout=WAIT, what="the reminder")
        except AssertionError as exc:  # what the lanes did, for a failure seen only on load
            raise AssertionError(f"{exc}: totals {d.totals.as_dict()}, next unknown "
                                 f"{d.totals.next_unknown}, due {due}, clock now "
                                 f"{d.clock.now()}, looked {d._looked}, ahead {d._ahead}, "
                                 f"timers lane next at {d.next_run(TIMERS)}, bookings "
                                 f"{lanes.booked}") from None
        assert len(lanes.booked[TIMERS]) == 1
        booked = lanes.booked[TIMERS][0]
        assert abs(booked - d.clock.real(due + WAKE_SLACK)) < CLOSE
        with records.orm(board.db) as s:
            row = s.execute(select(History).where(History.trigger == "timer")).scalar_one()
        assert aware(row.due_at) == due
        assert timedelta(0) <= aware(row.at) - due < PROMPT
        assert earliest_pending(board) > d.clock.now() + timedelta(seconds=HEARTBEAT)
        assert abs(d.next_run(TIMERS) - timedelta(seconds=HEARTBEAT) - booked) < CLOSE
        assert d.totals.fired == 1 and d.totals.errors == 0


def test_mail_the_timers_queue_moves_the_mail_lane_to_now(board, tmp_path, start_server):
    """The mail lane has nothing to send and waits for its heartbeat; a reminder falls due,
    and the e-mail its firing queues moves the mail lane's next run to that moment: the
    message reaches the SMTP server within moments, and the lane waits for its heartbeat
    again."""
    server = start_server()
    board.refer(at=T0)
    with transaction(board.db) as tx:  # the referral's own e-mail is out of the way
        tx.execute(update(OUTBOX).values(status="sent", sent_at=T0))
    due = earliest_pending(board)
    lanes = Lanes()
    runs = lanes.mail_runs
    with running(board, settings_for(tmp_path, server.port), due - LEAD, lanes) as d:
        wait_for(lambda: d.next_run(MAIL) and not moved(d, MAIL), timeout=WAIT,
                 what="the mail lane's first run")
        first = d.next_run(MAIL)
        try:
            wait_for(lambda: server.handler.received, timeout=WAIT,
                     what="the reminder's e-mail")
        except AssertionError as exc:  # what the lanes did, for a failure seen only on load
            raise AssertionError(f"{exc}: totals {d.totals.as_dict()}, next unknown "
                                 f"{d.totals.next_unknown}, due {due}, looked {d._looked}, "
                                 f"ahead {d._ahead}, mail lane next at {d.next_run(MAIL)}, "
                                 f"mail runs {runs}, bookings {lanes.booked}, kick waiting "
                                 f"{d._mail_waiting.is_set()}") from None
        fired_at = d.clock.real(due)
        kicked = wait_for(lambda: [at for at in runs if at >= fired_at], timeout=WAIT,
                          what="the end of the run that sent it")
        assert kicked[0] < fired_at + PROMPT
        assert "reminder" in server.handler.received[0].message["Subject"].lower()
        wait_for(lambda: not moved(d, MAIL), timeout=WAIT, what="the mail lane at rest")
        assert d.next_run(MAIL) != first  # the heartbeat of the run that sent it
        assert d.totals.delivered.sent >= 1 and d.totals.errors == 0


def test_an_unreachable_mail_server_has_the_mail_lane_wait_for_the_retry(board, tmp_path,
                                                                          unused_port):
    """No server listens: the delivery counts a retry and the mail lane's next run is the
    messages' next attempt (a minute on), neither now again nor left at the heartbeat."""
    board.refer(at=T0)
    pending = len(records.mail(board.db, status="pending"))
    assert pending > 0
    with running(board, settings_for(tmp_path, unused_port), T0 + timedelta(hours=1)) as d:
        at = wait_for(lambda: moved(d, MAIL), timeout=WAIT, what="the mail lane moved")
        assert d.totals.delivered.retried == pending and d.totals.delivered.sent == 0
        retry = min(r.next_attempt_at for r in records.mail(board.db, status="pending"))
        retry = aware(retry)
        assert retry > d.clock.now()
        assert abs(at - d.clock.real(retry + WAKE_SLACK)) < CLOSE
        assert d.next_run(MAIL) == at  # not run again meanwhile


def test_a_stop_ends_the_scheduler_with_the_totals_kept(board, tmp_path, start_server):
    """stop() and the grace logic of a SIGTERM leave the scheduler shut down, the lanes'
    next runs unmoved by the wakes that end, and the totals counted."""
    server = start_server()
    board.refer(at=T0)
    due = earliest_pending(board)
    d = Daemon(board.db, board.engine, settings_for(tmp_path, server.port),
               clock=Clock(due + timedelta(seconds=1)), interval=HEARTBEAT)
    d.start()
    try:
        wait_for(lambda: d.totals.fired and server.handler.received, timeout=WAIT,
                 what="the reminder fired and its e-mail sent")
    finally:
        d.stop()
        d._finish()
    assert not d._scheduler.running
    assert d.totals.as_dict()["fired"] == 1 and d.totals.errors == 0


def test_a_failed_wake_is_counted_and_the_timers_lane_waits_for_its_heartbeat(
        board, tmp_path, start_server):
    """The timers' table is out of reach (renamed): the wake fails and is counted, the
    timers lane is not moved to now again (no spinning) but waits for its heartbeat, and
    the mail lane delivers the referral's e-mail all the same."""
    server = start_server()
    board.refer(at=T0)
    pending = len(records.mail(board.db, status="pending"))
    with board.db.begin() as conn:
        conn.execute(text("ALTER TABLE timers RENAME TO timers_away"))
    with running(board, settings_for(tmp_path, server.port), T0 + timedelta(hours=1)) as d:
        wait_for(lambda: d.totals.errors and len(server.handler.received) == pending,
                 timeout=WAIT, what="the failed wake and the delivery")
        start = d.next_run(TIMERS)
        assert start is not None and start > datetime.now(UTC) + timedelta(
            seconds=HEARTBEAT - 30)
        assert d.totals.errors == 1 and d.totals.wakes == 1 and d.totals.fired == 0


def test_a_timer_that_fell_due_while_the_wake_ran_has_the_lane_run_again_at_once(
        board, tmp_path, unused_port):
    """A wake that looked a second before a timer's due moment and ended after it (a slow
    database, a busy machine) books the lane for that moment, now past, so it runs at once
    and not at the heartbeat ten minutes on; a timer already due when the wake looked and
    still pending (another daemon's locked case, a failing firing) waits for the
    heartbeat, so the daemon never spins."""
    board.refer(at=T0)
    due = earliest_pending(board)
    d = Daemon(board.db, board.engine, settings_for(tmp_path, unused_port),
               clock=Clock(due + timedelta(seconds=1)), interval=HEARTBEAT)
    booked = d._next(TIMERS, next_due, due - timedelta(seconds=1))
    assert booked is not None
    assert abs(booked - d.clock.real(due + WAKE_SLACK)) < CLOSE
    assert booked < datetime.now(UTC)
    assert d._next(TIMERS, next_due, due) is None
    assert d._next(TIMERS, next_due, None) is None  # a wake that failed before it looked


def test_a_due_moment_that_cannot_be_read_is_read_again_soon_after_a_run_that_worked(
        board, tmp_path, unused_port):
    """The run looked and worked, but the next due moment could not be read (the database
    briefly out of reach): the lane looks again RETRY_NEXT later, not at its heartbeat ten
    minutes on; after a run that failed before it looked, the heartbeat, so no spinning."""
    from scr.lifecycle.runtime.daemon import RETRY_NEXT

    d = Daemon(board.db, board.engine, settings_for(tmp_path, unused_port),
               clock=Clock(T0), interval=HEARTBEAT)

    def out_of_reach(db: object) -> datetime:
        raise RuntimeError("database is locked")

    before = datetime.now(UTC)
    again = d._next(TIMERS, out_of_reach, T0)
    assert again is not None and before + RETRY_NEXT <= again <= datetime.now(UTC) + RETRY_NEXT
    assert d._next(TIMERS, out_of_reach, None) is None
    assert d.totals.next_unknown == 2
