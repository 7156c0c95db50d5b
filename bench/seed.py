"""Fast seeding for benchmarks: one real case made by the engine, then cloned in bulk with
plain SQL (referring 100,000 cases through the engine would take longer than the run)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scr.lifecycle.core.engine import Engine
from scr.states.config import ProcessConfig
from scr.states.enums import State
from scr.storage.db import make_engine
from scr.storage.migrate import upgrade
from tests.board import Board

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def fresh(path: Path) -> Board:
    """A migrated SQLite database at `path` with the test board's users."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    # The figures are an SCR's (version 1), as they have always been measured.
    board = Board(engine, Engine(ProcessConfig(start=("scr", "1"))))
    board.seed_users()
    return board


def case_in(board: Board, state: State) -> str:
    ref = board.refer(at=T0)
    if state != State.REFERRAL:
        board.walk(ref, state, at=T0)
    return ref


def clone(path: Path, ref: str, n: int, *, with_timers: bool = True) -> None:
    """`n` copies of case `ref` with its referral, proceedings, history and (optionally)
    timers, inserted with INSERT ... SELECT."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        (source,) = conn.execute("SELECT id FROM cases WHERE ref = ?", (ref,)).fetchone()
        cols = [r[1] for r in conn.execute("PRAGMA table_info(cases)") if r[1] not in
                ("id", "ref")]
        (first,) = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM cases").fetchone()
        conn.execute("CREATE TEMP TABLE seq(i INTEGER PRIMARY KEY)")
        conn.executemany("INSERT INTO seq(i) VALUES (?)", ((i,) for i in range(n)))
        conn.execute(
            f"INSERT INTO cases (id, ref, {', '.join(cols)}) "
            f"SELECT {first} + i, 'BN-' || ({first} + i), {', '.join(cols)} "
            f"FROM seq, cases WHERE cases.id = ?", (source,))
        for table, key in (("referrals", "case_id"), ("proceedings", "case_id")):
            tcols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] != key]
            conn.execute(
                f"INSERT INTO {table} ({key}, {', '.join(tcols)}) "
                f"SELECT {first} + i, {', '.join(tcols)} FROM seq, {table} "
                f"WHERE {table}.{key} = ?", (source,))
        tables = ["history"] + (["timers"] if with_timers else [])
        for table in tables:
            tcols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")
                     if r[1] not in ("id", "case_id")]
            conn.execute(
                f"INSERT INTO {table} (case_id, {', '.join(tcols)}) "
                f"SELECT {first} + i, {', '.join(f'{table}.{c}' for c in tcols)} "
                f"FROM seq, {table} WHERE {table}.case_id = ?", (source,))
        conn.commit()
    finally:
        conn.close()


def far_future_timers(path: Path, count: int, cases: int) -> None:
    """`count` pending timers due years ahead, spread over `cases` filler cases (rows in
    `cases` only): stored work that a sweep must not pay for."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        (first,) = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM cases").fetchone()
        stamp = (T0 + timedelta(days=3650)).strftime("%Y-%m-%d %H:%M:%S.000000")
        now = T0.strftime("%Y-%m-%d %H:%M:%S.000000")
        conn.executemany(
            "INSERT INTO cases (id, ref, pseudonym, state, version, definition, "
            "definition_version, flags, round, referred_at, state_entered_at, updated_at, "
            "facts) VALUES (?, ?, 'Filler', 'review', 1, 'scr', '1', '[]', 1, ?, ?, ?, "
            "'{}')",
            ((first + i, f"FILL-{first + i}", now, now, now) for i in range(cases)))
        per = max(1, count // cases)
        conn.executemany(
            "INSERT INTO timers (case_id, ladder, level, rank, key, name, state, due_at, rule, "
            "status, armed_at, sequence) VALUES (?, 'completion', 'due', 2, '', "
            "'completion.due', 'review', ?, 'bench', 'pending', ?, 0)",
            ((first + (i // per) % cases, stamp, now) for i in range(count)))
        conn.commit()
        conn.execute("ANALYZE")
    finally:
        conn.close()
