"""Copies of a SQLite database: SQLite's online backup, a consistent copy while others read
and write. (PostgreSQL boards use pg_dump and pg_restore: SECURITY.md.)"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def copy(source: Path, target: Path) -> None:
    """Write a consistent copy of the database `source` over `target`."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def count_cases(path: Path) -> int:
    """How many cases the database file at `path` holds."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM cases").fetchone()[0])
