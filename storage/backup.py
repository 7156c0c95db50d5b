"""Copies of a SQLite database: SQLite's online backup, a consistent copy while others read
and write, and what a copy must be before it replaces the board's database. (PostgreSQL
boards use pg_dump and pg_restore: SECURITY.md.)"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from scr.states.errors import InvalidInput
from scr.storage.db import new_private_file, remove_sqlite_file

# The append-only triggers on SQLite, by name: the history's (migration 0002 made them)
# and the users' audit trail's (migration 0009).
APPEND_ONLY_TRIGGERS = {
    f"{table}_no_{verb.lower()}":
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
    for table in ("history", "user_audit") for verb in ("UPDATE", "DELETE")
}


def copy(source: Path, target: Path) -> None:
    """Write a consistent copy of the database `source` to `target`, a new file made here
    readable by its owner alone (0600); InvalidInput if `target` exists or cannot be made.
    On any failure no file is left at `target`."""
    new_private_file(target)
    try:
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
    except BaseException:
        remove_sqlite_file(target)
        raise


def write_backup(source: Path, target: Path) -> int:
    """Copy `source` to the new file `target` (as `copy`) and check the copy with SQLite's
    integrity check; the number of cases it holds. A copy that fails the check (the
    database's own pages are damaged) is removed and InvalidInput raised: a backup that
    cannot be restored is none. On any failure no file is left at `target`."""
    copy(source, target)
    try:
        problem = integrity_problem(target)
        if problem is not None:
            raise InvalidInput(f"the database file is damaged: {problem[:120]}; no backup "
                               "was written")
        return count_cases(target)
    except BaseException:
        remove_sqlite_file(target)
        raise


def count_cases(path: Path) -> int:
    """How many cases the database file at `path` holds."""
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("SELECT count(*) FROM cases").fetchone()[0])


def integrity_problem(path: Path) -> str | None:
    """SQLite's own check of the file (PRAGMA integrity_check): None when it is sound, else
    the first thing it found."""
    try:
        # As a URI, so that a name holding ? or # is still the file's name.
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            found = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if found == ["ok"] else found[0]


def put_back_triggers(path: Path) -> list[str]:
    """Create the append-only triggers where they are missing (of the tables there); the
    names made."""
    conn = sqlite3.connect(path)
    try:
        had = {name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        tables = {name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        made = []
        for name, statement in APPEND_ONLY_TRIGGERS.items():
            if name not in had and name.rsplit("_no_", 1)[0] in tables:
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
