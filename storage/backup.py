"""Copies of a SQLite database: SQLite's online backup, a consistent copy while others read
and write, and what a copy must be before it replaces the board's database. (PostgreSQL
boards use pg_dump and pg_restore: SECURITY.md.)"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

# The append-only triggers of the history table on SQLite (migration 0002 made them).
HISTORY_TRIGGERS = {
    verb: (f"CREATE TRIGGER IF NOT EXISTS history_no_{verb.lower()} BEFORE {verb} ON history "
           f"BEGIN SELECT RAISE(ABORT, 'history is append-only: {verb} refused'); END")
    for verb in ("UPDATE", "DELETE")
}


def copy(source: Path, target: Path) -> None:
    """Write a consistent copy of the database `source` over `target`."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def count_cases(path: Path) -> int:
    """How many cases the database file at `path` holds."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM cases").fetchone()[0])


def integrity_problem(path: Path) -> str | None:
    """SQLite's own check of the file (PRAGMA integrity_check): None when it is sound, else
    the first thing it found."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            found = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if found == ["ok"] else found[0]


def put_back_triggers(path: Path) -> list[str]:
    """Create the history's append-only triggers where they are missing; the names made."""
    conn = sqlite3.connect(path)
    try:
        had = {name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        made = []
        for verb, statement in HISTORY_TRIGGERS.items():
            name = f"history_no_{verb.lower()}"
            if name not in had:
                conn.execute(statement)
                made.append(name)
        conn.commit()
        return made
    finally:
        conn.close()


def replace_database(new: Path, target: Path) -> Path:
    """Put the checked copy `new` in place of the database `target`, keeping the database
    it replaces beside it (returned): the old one is set aside only once the new one is
    complete, and each step is a rename on one file system."""
    conn = sqlite3.connect(target)
    try:  # the old database's write-ahead log into the file, so nothing is left beside it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = target.with_name(f"{target.name}.replaced-{stamp}")
    os.replace(target, kept)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(new, target)
    return kept
