"""`scr daemon`: fire the timers and deliver the outbox as they fall due; until SIGTERM or
SIGINT.

APScheduler 3 is only the clock, with its job store in memory: timers are rows in the
database, never scheduler jobs, so nothing is lost with the process and several daemons
never share a job store. The daemon runs two lanes, each on a worker thread of its own, so
that a mail server that hangs never holds up a deadline (the Panel's notification, an
automatic submission, a scheduled publication):

- timers (`wake`): a `heartbeat` every `daemon_interval` seconds (15 by default) from
  start-up, and a one-off at the earliest pending timer, replaced after every wake, so a
  timer fires within moments of falling due;
- mail (`deliver`): a `mail-heartbeat` at the same interval, a one-off at the earliest
  outbox retry, and a run at once whenever the timers queued mail. It delivers batch after
  batch until none is due, but stops at the first batch that cannot reach the mail server:
  a server down or silent costs one connection timeout a wake, not one a batch.

Every job has `misfire_grace_time=None` (no misfire limit: a late wake still runs),
`coalesce=True` and `max_instances=1`.

Stopping: SIGTERM or SIGINT sets an event; the sweep and the delivery ask it between claims
(one timer's transaction, one delivery batch), so the current claim finishes and commits and
the process exits 0 within seconds. Should the timers' wake be stuck for more than
STOP_GRACE seconds (a database that no longer answers), the daemon exits 1 at once: its open
transaction dies with its connection, so nothing is left half-done. A delivery stuck on a
silent mail server is left: its messages keep their leases and go again after them.

Clock: the real time, or with --now / SCR_NOW (training, tests) that moment advancing with
real time from start-up, so a demonstration's deadlines fall due as it runs.

SQLite: one daemon per database. It holds an exclusive `flock` on a file beside the database
(`scr.db.daemon-lock`) for its whole life; a second daemon cannot take it and refuses to
start. The kernel drops the lock when the process ends in any way (even SIGKILL), so no
stale lock is ever left to clean up, unlike a lock row or a PID file; and the lock is on a
file of its own, so SQLite's own locks on the database are untouched and `scr tick` or the
shell keep working beside the daemon. PostgreSQL: no lock; any number of daemons may run,
and each timer still fires once (see lifecycle.runtime.sweep).
"""

from __future__ import annotations

import fcntl
import itertools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from scr.lifecycle import log
from scr.lifecycle.core.engine import Engine
from scr.lifecycle.runtime.delivery import DeliveryReport, deliver_outbox
from scr.lifecycle.runtime.sweep import next_due, sweep
from scr.lifecycle.settings import Settings
from scr.states.errors import Refused
from scr.storage import outbox
from scr.storage.db import Database, reading, redact, sqlite_file

# A due moment is woken for slightly after it, so the wake's `now` is past it.
WAKE_SLACK = timedelta(milliseconds=20)
# How long a stop waits for the wake in progress (one claim, or one delivery batch).
STOP_GRACE = 8.0


class Clock:
    """The daemon's `now`: the real time, or an override moment advancing with real time."""

    def __init__(self, override: datetime | None = None) -> None:
        self._override = override
        self._started = time.monotonic()

    def now(self) -> datetime:
        if self._override is None:
            return datetime.now(UTC)
        return self._override + timedelta(seconds=time.monotonic() - self._started)

    def real(self, moment: datetime) -> datetime:
        """The wall-clock moment at which this clock reads `moment`."""
        return datetime.now(UTC) + (moment - self.now())


@dataclass
class Totals:
    wakes: int = 0
    fired: int = 0
    stale: int = 0
    skipped: int = 0
    errors: int = 0
    delivered: DeliveryReport = field(default_factory=DeliveryReport)

    def as_dict(self) -> dict[str, Any]:
        return {"wakes": self.wakes, "fired": self.fired, "stale": self.stale,
                "skipped": self.skipped, "errors": self.errors,
                "sent": self.delivered.sent, "retried": self.delivered.retried,
                "failed": self.delivered.failed}


TIMERS = "timers"
MAIL = "mail"


class Daemon:
    def __init__(self, db: Database, engine: Engine, settings: Settings, *,
                 clock: Clock, interval: float) -> None:
        self.db = db
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.interval = interval
        self.stopping = threading.Event()
        self.totals = Totals()
        self._scheduler: Any = None
        self._sweeping = threading.Lock()  # held by the timers' wake in progress
        self._delivering = threading.Lock()  # held by the mail's wake in progress
        self._mail_waiting = threading.Event()  # new mail queued since delivery last looked
        self._numbers = itertools.count(1)
        self._due_ids: dict[str, str | None] = {TIMERS: None, MAIL: None}

    # ------------------------------------------------------------------------ running
    def run(self) -> Totals:
        """Run until SIGTERM or SIGINT (or `stop()`); returns what was done."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        # One worker thread a lane: the timers' wakes never overlap each other, nor the
        # mail's each other, and a mail server that hangs never holds up a deadline.
        self._scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={TIMERS: ThreadPoolExecutor(max_workers=1),
                       MAIL: ThreadPoolExecutor(max_workers=1)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        start = datetime.now(UTC)
        self._scheduler.add_job(self.wake, "interval", seconds=self.interval, id="heartbeat",
                                next_run_time=start, executor=TIMERS)
        self._scheduler.add_job(self.deliver, "interval", seconds=self.interval,
                                id="mail-heartbeat", next_run_time=start, executor=MAIL)
        received: list[str] = []
        with _signals(self.stopping, received):
            self._scheduler.start()
            log.get(pid=os.getpid()).info(
                "daemon.started", database=redact(self.settings.database_url),
                interval_s=self.interval, now=self.clock.now().isoformat())
            while not self.stopping.wait(0.5):
                pass
            log.get(pid=os.getpid()).info("daemon.stopping", signal=",".join(received) or None)
            self._finish()
        log.get(pid=os.getpid()).info("daemon.stopped", **self.totals.as_dict())
        return self.totals

    def _finish(self) -> None:
        """Wait for the wakes in progress to finish their current claim, and keep others
        from starting, before the scheduler shuts down: a wake booking its next run needs
        the scheduler's job-store lock, which shutdown holds while it waits."""
        if not self._sweeping.acquire(timeout=STOP_GRACE):
            log.get(pid=os.getpid()).error("daemon.stop_forced", waited_s=STOP_GRACE)
            os._exit(1)  # the open transaction dies with the connection: nothing half-done
        if not self._delivering.acquire(timeout=STOP_GRACE):
            # A send the mail server never answers: its message keeps its lease and goes
            # again once the lease ends, with the same Message-ID. Nothing is lost.
            log.get(pid=os.getpid()).warning("daemon.mail_abandoned", waited_s=STOP_GRACE)
            log.get(pid=os.getpid()).info("daemon.stopped", **self.totals.as_dict())
            os._exit(0)  # the worker thread is stuck in a socket read: do not join it
        try:
            self._scheduler.shutdown(wait=False)
        finally:
            self._delivering.release()
            self._sweeping.release()

    def stop(self) -> None:
        self.stopping.set()

    def wake(self) -> None:
        """One wake of the timers: fire what is due, then book the next due moment. Mail
        the timers queued is the mail lane's, which is told of it."""
        fired = 0
        with self._sweeping:
            if self.stopping.is_set():
                return
            try:
                fired = self._sweep()
            except Exception as exc:  # the daemon outlives a bad wake (the database away)
                self.totals.errors += 1
                log.get().error("daemon.wake_failed", error=exc.__class__.__name__,
                                detail=log.redact_text(str(exc))[:200])
            finally:
                self._book(TIMERS, self.wake, next_due)
        if fired:
            self._kick_mail()

    def deliver(self) -> None:
        """One wake of the mail: deliver what is due, batch by batch, until none is left or
        the server cannot be reached; again at once if the timers queued more meanwhile."""
        while True:
            unreachable = False
            with self._delivering:
                if self.stopping.is_set():
                    return
                self._mail_waiting.clear()
                try:
                    unreachable = self._deliver_due()
                except Exception as exc:
                    self.totals.errors += 1
                    log.get().error("daemon.delivery_failed", error=exc.__class__.__name__,
                                    detail=log.redact_text(str(exc))[:200])
                finally:
                    self._book(MAIL, self.deliver, next_delivery)
            # A server found unreachable is tried again at the next heartbeat, not at once.
            if unreachable or not self._mail_waiting.is_set():
                return

    def _sweep(self) -> int:
        self.totals.wakes += 1
        report = sweep(self.db, self.engine, self.clock.now(), stop=self.stopping.is_set)
        fired = len(report.of("fired", "blocked"))
        self.totals.fired += fired
        self.totals.stale += len(report.of("stale"))
        self.totals.skipped += len(report.of("skipped"))
        self.totals.errors += len(report.errors)
        return fired

    def _deliver_due(self) -> bool:
        """Deliver batches while any is due; True if the mail server was unreachable."""
        while not self.stopping.is_set():
            done = deliver_outbox(self.db, self.settings, self.clock.now(), batches=1,
                                  processes=self.engine.processes)
            self.totals.delivered += done
            if done.unreachable:
                return True
            if done.tried == 0:
                break
        return False

    def _kick_mail(self) -> None:
        """Have the mail lane look at the outbox now: a run of its own if it is idle; if it
        is busy, the flag makes it look again when its run ends (it releases its lock before
        it reads the flag, so no kick falls between the two)."""
        self._mail_waiting.set()
        if not self._delivering.locked():
            self._add_once(MAIL, self.deliver, datetime.now(UTC))

    def _book(self, lane: str, wake: Callable[[], None],
              when: Callable[[Database], datetime | None]) -> None:
        """Schedule the lane's `due` wake at its earliest moment still ahead (a pending
        timer, or an outbox retry).

        Anything already due and still pending after a wake is another daemon's (a locked
        case) or failing; the heartbeat comes back to it, so the daemon never spins.
        """
        if self.stopping.is_set() or self._scheduler is None:
            return
        try:
            moment = when(self.db)
        except Exception as exc:
            log.get().warning("daemon.next_due_unknown", lane=lane,
                              error=exc.__class__.__name__)
            return
        if moment is None or moment <= self.clock.now():
            return
        previous = self._due_ids[lane]
        self._due_ids[lane] = self._add_once(lane, wake, self.clock.real(moment + WAKE_SLACK))
        try:
            if previous is not None and self._scheduler.get_job(previous) is not None:
                self._scheduler.remove_job(previous)
        except Exception as exc:  # it ran meanwhile, or the scheduler is shutting down
            log.get().debug("daemon.not_unbooked", error=exc.__class__.__name__)

    def _add_once(self, lane: str, wake: Callable[[], None], at: datetime) -> str | None:
        """A one-off run of `wake` on the lane's thread at `at`. A fresh id each time: the
        wake now running still counts as an instance of the job it was started by, and
        max_instances=1 would otherwise drop the next one."""
        job_id = f"{lane}-{next(self._numbers)}"
        try:
            self._scheduler.add_job(wake, "date", run_date=at, id=job_id, executor=lane)
        except Exception as exc:  # shutting down: the scheduler takes no more jobs
            log.get().debug("daemon.not_booked", error=exc.__class__.__name__)
            return None
        return job_id


def next_delivery(db: Database) -> datetime | None:
    """The earliest moment a pending, unleased outbox message may be tried."""
    with reading(db) as tx:
        return outbox.next_attempt(tx)


@contextmanager
def _signals(stopping: threading.Event, received: list[str]) -> Iterator[None]:
    """SIGTERM and SIGINT set `stopping` for as long as the daemon runs. The handler only
    notes the signal: logging from inside it could wait on a lock its own thread holds."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)
        stopping.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# ------------------------------------------------------------------------ the SQLite lock
def lock_path(database_url: str) -> Path | None:
    """The lock file beside a SQLite database file; None for PostgreSQL or in-memory."""
    file = sqlite_file(database_url)
    if file is None:
        return None
    db_file = file.resolve()
    return db_file.with_name(db_file.name + ".daemon-lock")


@contextmanager
def single_daemon(database_url: str) -> Iterator[Path | None]:
    """Hold the one-daemon lock of a SQLite database for the block; Refused if it is held.

    Two locks: the lock file beside the database, which names the holder's pid; and a lock
    on the database file itself (flock: it belongs to the file, whatever path or hard link
    opened it, so a second daemon reaching the same file by another name is refused too).
    flock is separate from the POSIX locks SQLite takes; but closing any descriptor of the
    file drops those, so the caller must close its database connections before the block
    ends (lifecycle/cli/running.py does)."""
    path = lock_path(database_url)
    if path is None:
        yield None
        return
    file = sqlite_file(database_url)
    assert file is not None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    held = os.open(file, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise Refused(
                f"another scr daemon (pid {holder}) is already running on "
                f"{redact(database_url)}: on SQLite only one daemon may run (it holds "
                f"{path}); stop it first, or use PostgreSQL to run several") from None
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Refused(
                f"another scr daemon is already running on the database file of "
                f"{redact(database_url)}, reached by another path or link: on SQLite only "
                "one daemon may run; stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(held)
        os.close(fd)  # releases the lock
