"""`scr daemon`: wake, sweep the timers, deliver the outbox, sleep; until SIGTERM or SIGINT.

APScheduler 3 is only the clock, with its job store in memory: timers are rows in the
database, never scheduler jobs, so nothing is lost with the process and several daemons
never share a job store. Two jobs run the same `wake`, on one worker thread so wakes never
overlap:

- `heartbeat`, every `daemon_interval` seconds (15 by default), from start-up;
- `due-N`, a one-off at the next due moment (the earliest pending timer, or the earliest
  outbox retry), replaced after every wake, so a timer fires within moments of falling due.

Both have `misfire_grace_time=None` (no misfire limit: a late wake still runs),
`coalesce=True` and `max_instances=1`.

Stopping: SIGTERM or SIGINT sets an event; the sweep and the delivery ask it between claims
(one timer's transaction, one delivery batch), so the current claim finishes and commits and
the process exits 0 within seconds. Should a wake be stuck for more than STOP_GRACE seconds
(a database that no longer answers), the daemon exits 1 at once: its open transaction dies
with its connection, so nothing is left half-done.

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
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from lifecycle import log
from lifecycle.core.engine import Engine
from lifecycle.runtime.delivery import DeliveryReport, deliver_outbox
from lifecycle.runtime.sweep import next_due, sweep
from lifecycle.settings import Settings
from states.errors import Refused
from storage import outbox
from storage.db import Database, reading, redact, sqlite_file

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
        self._busy = threading.Lock()  # held by the wake in progress
        self._booked = 0
        self._due_id: str | None = None

    # ------------------------------------------------------------------------ running
    def run(self) -> Totals:
        """Run until SIGTERM or SIGINT (or `stop()`); returns what was done."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        self._scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self._scheduler.add_job(self.wake, "interval", seconds=self.interval, id="heartbeat",
                                next_run_time=datetime.now(UTC))
        received: list[str] = []
        with _signals(self.stopping, received):
            self._scheduler.start()
            log.get(pid=os.getpid()).info(
                "daemon.started", database=redact(self.settings.database_url),
                interval_s=self.interval, now=self.clock.now().isoformat())
            while not self.stopping.wait(0.5):
                pass
            log.get(pid=os.getpid()).info("daemon.stopping", signal=",".join(received) or None)
            # Wait for the wake in progress to finish its current claim, and keep any other
            # from starting, before the scheduler shuts down: a wake booking its next run
            # needs the scheduler's job-store lock, which shutdown holds while it waits.
            if not self._busy.acquire(timeout=STOP_GRACE):
                log.get(pid=os.getpid()).error("daemon.stop_forced", waited_s=STOP_GRACE)
                os._exit(1)  # the open transaction dies with the connection: nothing half-done
            try:
                self._scheduler.shutdown(wait=False)
            finally:
                self._busy.release()
        log.get(pid=os.getpid()).info("daemon.stopped", **self.totals.as_dict())
        return self.totals

    def stop(self) -> None:
        self.stopping.set()

    def wake(self) -> None:
        """One wake: sweep the timers, deliver the outbox, then book the next due moment."""
        with self._busy:
            if self.stopping.is_set():
                return
            try:
                self._sweep_and_deliver()
            except Exception as exc:  # the daemon outlives a bad wake (the database away)
                self.totals.errors += 1
                log.get().error("daemon.wake_failed", error=exc.__class__.__name__,
                                detail=log.redact_text(str(exc))[:200])
            finally:
                self._book_next()

    def _sweep_and_deliver(self) -> None:
        self.totals.wakes += 1
        now = self.clock.now()
        report = sweep(self.db, self.engine, now, stop=self.stopping.is_set)
        self.totals.fired += len(report.of("fired", "blocked"))
        self.totals.stale += len(report.of("stale"))
        self.totals.skipped += len(report.of("skipped"))
        self.totals.errors += len(report.errors)
        while not self.stopping.is_set():
            done = deliver_outbox(self.db, self.settings, self.clock.now(), batches=1)
            self.totals.delivered += done
            if done.sent + done.retried + done.failed == 0:
                break

    def _book_next(self) -> None:
        """Schedule the `due` wake at the earliest pending timer or outbox retry still ahead.

        Anything already due and still pending after a wake is another daemon's (a locked
        case) or failing; the heartbeat comes back to it, so the daemon never spins.
        """
        if self.stopping.is_set() or self._scheduler is None:
            return
        try:
            moments = [m for m in (next_due(self.db), next_delivery(self.db)) if m is not None]
        except Exception as exc:
            log.get().warning("daemon.next_due_unknown", error=exc.__class__.__name__)
            return
        ahead = [m for m in moments if m > self.clock.now()]
        if not ahead:
            return
        run_at = self.clock.real(min(ahead) + WAKE_SLACK)
        # A fresh id each time: the wake now running still counts as an instance of the
        # job it was started by, and max_instances=1 would otherwise drop the next one.
        self._booked += 1
        previous, self._due_id = self._due_id, f"due-{self._booked}"
        try:
            if previous is not None and self._scheduler.get_job(previous) is not None:
                self._scheduler.remove_job(previous)
            self._scheduler.add_job(self.wake, "date", run_date=run_at, id=self._due_id)
        except Exception as exc:  # shutting down: the scheduler takes no more jobs
            log.get().debug("daemon.not_booked", error=exc.__class__.__name__)


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
