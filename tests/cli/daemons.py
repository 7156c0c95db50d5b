"""Running the real `scr daemon` in subprocesses, seeding due timers, and polling the
database until something is true (daemon tests wait on a process, never on a fixed sleep)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import select

from scr.storage.db import make_engine, transaction
from scr.storage.migrate import upgrade
from scr.storage.models import Case, History, ProceedingsStatus, Referral, Timer
from scr.storage.tables import OUTBOX
from tests import records
from tests.board import BM, SCR_REFERRAL, Board
from tests.cli.scr import Scr

T = TypeVar("T")


@dataclass
class DaemonProcess:
    proc: subprocess.Popen[bytes]
    log: Path
    started: float

    def events(self) -> list[dict[str, Any]]:
        """Every JSON event the daemon has logged so far (each line must be JSON); a last
        line still being written (no newline yet) is left for the next read."""
        text = self.log.read_text(encoding="utf-8")
        lines = text[:text.rfind("\n") + 1].splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e.get("event") == event]

    def stop(self, timeout: float = 10.0) -> tuple[int, float]:
        """SIGTERM, then wait; returns the exit status and the seconds it took."""
        begun = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        return code, time.monotonic() - begun


@contextmanager
def daemon(scr: Scr, *args: str, name: str = "daemon", **env: str) -> Iterator[DaemonProcess]:
    """`scr daemon` in the background, logging JSON to a file; always reaped afterwards."""
    log = scr.cwd / f"{name}.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scr.lifecycle.cli", "daemon", "--log-format", "json", *args],
            cwd=scr.cwd, env={**scr.env, **env}, stdout=subprocess.DEVNULL, stderr=err)
    running = DaemonProcess(proc, log, time.monotonic())
    try:
        yield running
    finally:
        if proc.poll() is None:
            proc.kill()
        with suppress(subprocess.TimeoutExpired):
            proc.wait(10)


def wait_for(check: Callable[[], T], *, timeout: float, what: str) -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def seeded_board(url: str) -> Board:
    db = make_engine(url)
    upgrade(db)
    board = Board(db)
    board.seed_users()
    return board


def refer_many(board: Board, n: int, at: datetime) -> list[str]:
    """`n` referrals at `at`, in one transaction; each arms its triage ladder. Their own
    e-mail is marked sent, so that the daemon's work is the timers' (and their mail)."""
    manager = board.actor(BM)
    with transaction(board.db) as tx:
        refs = [board.engine.refer(tx, actor=manager, params=SCR_REFERRAL, now=at).ref
                for _ in range(n)]
        tx.execute(update(OUTBOX).values(status="sent", sent_at=at))
    return refs


def clone_cases(board: Board, ref: str, n: int) -> list[str]:
    """`n` copies of case `ref` (its case, referral, proceedings, history and timer rows),
    written in bulk: hundreds of real-shaped cases in a fraction of a second, where
    referring each through the engine would take most of a daemon test's time budget."""
    with records.orm(board.db) as s:
        source = s.exec(select(Case).where(Case.ref == ref)).one()
        assert source.id is not None
        referral = s.get(Referral, source.id)
        status = s.get(ProceedingsStatus, source.id)
        rows = list(s.exec(select(History).where(History.case_id == source.id)))
        armed = list(s.exec(select(Timer).where(Timer.case_id == source.id)))
        prefix = ref.rsplit("-", 1)[0]
        refs = [f"{prefix}-{9000 + i:05d}" for i in range(n)]
        skip = {"id", "ref"}
        case_rows = [{**_columns(source, skip), "ref": r} for r in refs]
        ids = s.execute(insert(Case).returning(Case.id), case_rows).scalars().all()
        for model, originals in ((Referral, [referral]), (ProceedingsStatus, [status]),
                                 (History, rows), (Timer, armed)):
            if originals:
                s.execute(insert(model), [{**_columns(o, {"id", "case_id"}), "case_id": i}
                                          for i in ids for o in originals])
    return refs


def _columns(row: Any, skip: set[str]) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in type(row).__table__.columns
            if c.key not in skip}


def count_fired(db: DbEngine) -> int:
    """Fired timers, read without a transaction: on SQLite a reader must not queue for the
    writer lock the daemon keeps taking (every transaction of ours begins IMMEDIATE)."""
    raw = db.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT count(*) FROM timers WHERE status = 'fired'")
        return int(cursor.fetchone()[0])
    finally:
        raw.close()


def whole(db: DbEngine) -> dict[str, int]:
    """Per-timer bookkeeping: each fired timer has exactly one history row of its firing
    (matched by case and due moment) and each pending timer has none."""
    with records.orm(db) as s:
        timers = s.execute(select(Timer.case_id, Timer.due_at, Timer.status)).all()
        rows = s.execute(select(History.case_id, History.due_at)
                         .where(History.due_at.is_not(None))).all()
    per_timer: dict[tuple[int, datetime], int] = {}
    for case_id, due_at in rows:
        per_timer[(case_id, due_at)] = per_timer.get((case_id, due_at), 0) + 1
    counts = {"fired": 0, "pending": 0}
    for case_id, due_at, status in timers:
        found = per_timer.get((case_id, due_at), 0)
        assert found == (1 if status == "fired" else 0), (case_id, due_at, status, found)
        counts[status] = counts.get(status, 0) + 1
    assert len(rows) == counts["fired"]
    return counts


def iso(moment: datetime) -> str:
    return moment.isoformat()


DUE_REMINDERS = timedelta(days=3, hours=2)  # after T0: every triage reminder, no escalation
