"""`scr daemon`: fire the timers and deliver the outbox as they fall due; until SIGTERM or
SIGINT.

APScheduler 3 is the daemon's clock, with its job store in memory: timers are rows in the
database, never scheduler jobs, so nothing is lost with the process and several daemons
never share a job store. The daemon runs two lanes, each one job on an executor of its own
with one worker thread, so that a mail server that hangs never holds up a deadline (the
Panel's notification, an automatic submission, a scheduled publication):

- timers (job `timers`, running `wake`): fires what is due, then reads the earliest pending
  timer;
- mail (job `mail`, running `deliver`): delivers batch after batch until none is due, but
  stops at the first batch that cannot reach the mail server (a server down or silent costs
  one connection timeout a run, not one a batch), then reads the earliest outbox retry.

Each lane's job has an interval trigger of `daemon_interval` seconds (15 by default): its
heartbeat, so a lane runs at least that often whatever the database says. After each run the
lane's next run is brought forward to the due moment the run read, when that comes before the
heartbeat, with `Job.modify(next_run_time=...)` (APScheduler's user guide, "Modifying
jobs"); a timer therefore fires within moments of falling due. When the timers queue mail,
the mail lane's next run is moved to now. The move is made by a listener of
EVENT_JOB_EXECUTED and EVENT_JOB_ERROR ("Scheduler events"), not by the run itself: the
executor dispatches those events once it no longer counts the run as running, whereas a
run moved to a moment before its own end would be skipped by `max_instances=1` ("Limiting
the number of concurrently executing instances of a job") and wait for the heartbeat.

The due moments are not a trigger's: APScheduler asks a trigger for the next fire time when
it hands a run to the executor, before the run, under the lock of its job stores; the timers
about to fire are still pending then, and a database that hangs would hold up both lanes.

Both jobs have `misfire_grace_time=None` (no misfire limit: a late run still runs),
`coalesce=True` (runs missed while the lane was busy become one) and `max_instances=1`.

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
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
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

# A due moment is woken for slightly after it, so the wake's `now` is past it. The scheduler
# never runs a job before its next run time by the wall clock, and the daemon's clock reads
# the wall clock (or an override advancing with the monotonic clock, mapped back by
# Clock.real at each move), so a couple of milliseconds is enough; a wake early all the
# same finds the timer still ahead and moves the lane's next run to it again.
WAKE_SLACK = timedelta(milliseconds=2)
# How long a stop waits for the wake in progress (one claim, or one delivery batch).
STOP_GRACE = 8.0
# When a lane cannot read its next due moment (the database briefly out of reach), it looks
# again this much later rather than at its heartbeat: soon, and still never a spin.
RETRY_NEXT = timedelta(seconds=5)


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
    # Runs after which the lane could not read its next due moment (RETRY_NEXT).
    next_unknown: int = 0
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
        self._mover: futures.ThreadPoolExecutor | None = None  # moves lanes' next runs (_ran)
        self._sweeping = threading.Lock()  # held by the timers' wake in progress
        self._delivering = threading.Lock()  # held by the mail's wake in progress
        self._mail_waiting = threading.Event()  # new mail queued since delivery last looked
        self._unreachable = False  # the mail lane's last run could not reach the server
        # The wall-clock moment each lane's last run found next due (None: nothing ahead).
        self._ahead: dict[str, datetime | None] = {TIMERS: None, MAIL: None}
        # The daemon's-clock moment each lane's last run judged at (its sweep, its last
        # delivery batch); None until it has.
        self._looked: dict[str, datetime | None] = {TIMERS: None, MAIL: None}

    # ------------------------------------------------------------------------ running
    def run(self) -> Totals:
        """Run until SIGTERM or SIGINT (or `stop()`); returns what was done."""
        received: list[str] = []
        with _signals(self.stopping, received):
            self.start()
            log.get(pid=os.getpid()).info(
                "daemon.started", database=redact(self.settings.database_url),
                interval_s=self.interval, now=self.clock.now().isoformat())
            while not self.stopping.wait(0.5):
                pass
            log.get(pid=os.getpid()).info("daemon.stopping", signal=",".join(received) or None)
            self._finish()
        log.get(pid=os.getpid()).info("daemon.stopped", **self.totals.as_dict())
        return self.totals

    def start(self, *, listeners: Sequence[tuple[Callable[[Any], None], int]] = ()) -> None:
        """Start the scheduler with the two lanes' jobs, both due at once. `listeners`
        (callback, event mask) are told of the scheduler's events from its start, beside
        the daemon's own (whoever watches the lanes: the tests of its clock)."""
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        # One worker thread a lane: the timers' wakes never overlap each other, nor the
        # mail's each other, and a mail server that hangs never holds up a deadline.
        self._scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={TIMERS: ThreadPoolExecutor(max_workers=1),
                       MAIL: ThreadPoolExecutor(max_workers=1)},
            timezone=UTC,
        )
        start = datetime.now(UTC)
        for lane, wake in ((TIMERS, self.wake), (MAIL, self.deliver)):
            self._scheduler.add_job(
                wake, IntervalTrigger(seconds=self.interval, timezone=UTC), id=lane,
                name=lane, executor=lane, next_run_time=start, misfire_grace_time=None,
                coalesce=True, max_instances=1)
        self._scheduler.add_listener(self._ran, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        for callback, mask in listeners:
            self._scheduler.add_listener(callback, mask)
        self._mover = futures.ThreadPoolExecutor(max_workers=1,
                                                 thread_name_prefix="scr-lane-mover")
        self._scheduler.start()

    def _finish(self) -> None:
        """Wait for the wakes in progress to finish their current claim, and keep others
        from starting, before the scheduler shuts down (without waiting for its worker
        threads: a delivery stuck on a silent server is abandoned, see below)."""
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
            if self._mover is not None:
                self._mover.shutdown(wait=False)
        finally:
            self._delivering.release()
            self._sweeping.release()

    def stop(self) -> None:
        self.stopping.set()

    def next_run(self, lane: str) -> datetime | None:
        """When the scheduler will next run the lane (`TIMERS` or `MAIL`), wall clock."""
        job = self._scheduler.get_job(lane) if self._scheduler is not None else None
        return job.next_run_time if job is not None else None

    def wake(self) -> None:
        """One wake of the timers: fire what is due, then read the next due moment. Mail
        the timers queued is the mail lane's, which is told of it."""
        fired = 0
        self._looked[TIMERS] = None
        with self._sweeping:
            if self.stopping.is_set():
                return
            try:
                fired = self._sweep()
            except Exception as exc:  # the daemon outlives a bad wake (the database away)
                self._looked[TIMERS] = None  # it failed: wait for the heartbeat
                self.totals.errors += 1
                log.get().error("daemon.wake_failed", error=exc.__class__.__name__,
                                detail=log.redact_text(str(exc))[:200])
            finally:
                self._ahead[TIMERS] = self._next(TIMERS, next_due, self._looked[TIMERS])
        if fired:
            self._kick_mail()

    def deliver(self) -> None:
        """One wake of the mail: deliver what is due, batch by batch, until none is left or
        the server cannot be reached, then read the next retry moment. Mail the timers
        queued meanwhile has the lane run again at once (see `_ran`)."""
        with self._delivering:
            if self.stopping.is_set():
                return
            self._mail_waiting.clear()
            self._unreachable = False
            self._looked[MAIL] = None
            try:
                self._unreachable = self._deliver_due()
            except Exception as exc:
                self._looked[MAIL] = None  # it failed: wait for the heartbeat
                self.totals.errors += 1
                log.get().error("daemon.delivery_failed", error=exc.__class__.__name__,
                                detail=log.redact_text(str(exc))[:200])
            finally:
                self._ahead[MAIL] = self._next(MAIL, next_delivery, self._looked[MAIL])

    def _sweep(self) -> int:
        self.totals.wakes += 1
        self._looked[TIMERS] = now = self.clock.now()
        report = sweep(self.db, self.engine, now, stop=self.stopping.is_set)
        fired = len(report.of("fired", "blocked"))
        self.totals.fired += fired
        self.totals.stale += len(report.of("stale"))
        self.totals.skipped += len(report.of("skipped"))
        self.totals.errors += len(report.errors)
        return fired

    def _deliver_due(self) -> bool:
        """Deliver batches while any is due; True if the mail server was unreachable."""
        while not self.stopping.is_set():
            self._looked[MAIL] = now = self.clock.now()
            done = deliver_outbox(self.db, self.settings, now, batches=1,
                                  processes=self.engine.processes)
            self.totals.delivered += done
            if done.unreachable:
                return True
            if done.tried == 0:
                break
        return False

    def _next(self, lane: str, when: Callable[[Database], datetime | None],
              looked: datetime | None) -> datetime | None:
        """The wall-clock moment to run the lane for its earliest due moment (a pending
        timer, or an outbox retry) that was not yet due when the run looked (`looked`, the
        moment its last sweep or batch judged at; None if it failed first); None if there
        is none.

        Anything that was due when the run looked and is still pending after it is another
        daemon's (a locked case) or failing; the heartbeat comes back to it, so the daemon
        never spins. Something that fell due while the run went on (a slow wake, a busy
        machine) has the lane run again at once, not at the heartbeat. A due moment that
        cannot be read after a run that worked is read again RETRY_NEXT later.
        """
        try:
            moment = when(self.db)
        except Exception as exc:
            self.totals.next_unknown += 1
            log.get().warning("daemon.next_due_unknown", lane=lane,
                              error=exc.__class__.__name__,
                              detail=log.redact_text(str(exc))[:200])
            # A run that failed before it looked waits for its heartbeat (no spinning on a
            # database that is gone); one that worked looks again soon.
            return None if looked is None else datetime.now(UTC) + RETRY_NEXT
        if moment is None or moment <= (looked or self.clock.now()):
            return None
        return self.clock.real(moment + WAKE_SLACK)

    def _ran(self, event: Any) -> None:
        """After a lane's run (EVENT_JOB_EXECUTED or EVENT_JOB_ERROR, dispatched once the
        executor no longer counts the run as running): bring its next run forward to the
        due moment it read, or to now for the mail lane if the timers queued mail since it
        looked (unless the server was unreachable: then the heartbeat tries again)."""
        lane = event.job_id
        if lane not in self._ahead or self.stopping.is_set():
            return
        moment: datetime | None = self._ahead[lane]
        if lane == MAIL and self._mail_waiting.is_set() and not self._unreachable:
            moment = datetime.now(UTC)
        # Not here but on the mover's thread: APScheduler may call this listener on its own
        # thread, inside the run's submission, before it sets the job's next run to the
        # heartbeat (a run that ends before the pool adds its done-callback calls it at
        # once), and a move made there is overwritten. The mover waits for the scheduler's
        # lock on its job stores, so it moves the next run the scheduler has set. (Seen on a
        # busy machine: the reminder, or the mail it queued, waited for the heartbeat.)
        if self._mover is not None:
            self._mover.submit(self._move, lane, moment)

    def _kick_mail(self) -> None:
        """Have the mail lane look at the outbox now: its next run moved to now if it is
        idle; if it is running, the flag has `_ran` move it once the run is over. No kick
        is lost: the run clears the flag before it looks at the outbox, and `_ran` reads it
        only after the executor has stopped counting the run, so a kick `_ran` misses finds
        the lane free to run at once."""
        self._mail_waiting.set()
        if not self._delivering.locked():
            self._move(MAIL, datetime.now(UTC))

    def _move(self, lane: str, moment: datetime | None) -> None:
        """Move the lane's next run to `moment` if that is before the run already set (the
        heartbeat, or an earlier due moment): `Job.modify` wakes the scheduler."""
        if moment is None or self.stopping.is_set() or self._scheduler is None:
            return
        try:
            job = self._scheduler.get_job(lane)
            if job is not None and job.next_run_time is not None and moment < job.next_run_time:
                job.modify(next_run_time=moment)
        except Exception as exc:  # the scheduler is shutting down
            log.get().debug("daemon.not_moved", lane=lane, error=exc.__class__.__name__)


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
