"""A damaged database file is reported as damaged, by the real `scr`: random bytes, a file
cut short, pages overwritten in the middle. One `error:` line saying "the database file
is damaged", exit 2 (not "not initialised", not an internal error), and the file itself
left exactly as it was."""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.board import BM
from tests.cli.conftest import CASE_REF as REF
from tests.cli.conftest import _copy_db
from tests.cli.scr import Scr

NOW = "2026-11-24T10:00"


def settled(path: Path) -> int:
    """Fold the write-ahead log into `path`; its page size."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return size


def overwrite_table(path: Path, table: str) -> None:
    """Overwrite the root page of `table` with random bytes (seeded: the same every run)."""
    size = settled(path)
    with closing(sqlite3.connect(path)) as conn:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                            (table,)).fetchone()[0]
    with path.open("r+b") as file:
        file.seek((root - 1) * size)
        file.write(random.Random(root).randbytes(size))


def random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(1).randbytes(64 * 1024))


def header_then_noise(path: Path) -> None:
    """SQLite's own 100-byte header, then noise: it looks like a database until read."""
    settled(path)
    head = path.read_bytes()[:100]
    path.write_bytes(head + random.Random(2).randbytes(64 * 1024))


def cut_to_three_pages(path: Path) -> None:
    os.truncate(path, 3 * settled(path))


def cut_in_half(path: Path) -> None:
    size = settled(path)
    pages = path.stat().st_size // size
    os.truncate(path, (pages // 2) * size + size // 2)


def middle_pages(path: Path) -> None:
    """A run of pages in the middle of the file overwritten."""
    size = settled(path)
    pages = path.stat().st_size // size
    with path.open("r+b") as file:
        file.seek((pages // 3) * size)
        file.write(random.Random(3).randbytes(size * max(1, pages // 3)))


def schema_pages(path: Path) -> None:
    """The table the schema revision lives in overwritten."""
    overwrite_table(path, "alembic_version")


def cases_table(path: Path) -> None:
    overwrite_table(path, "cases")


READING_CASES = [
    pytest.param(["--as", BM, "list"], id="list"),
    pytest.param(["--as", BM, "show", REF], id="show"),
    pytest.param(["--as", BM, "--now", NOW, "advance", REF, "add_agency", "agency=education"],
                 id="advance"),
    pytest.param(["init"], id="init"),  # checks every page before it upgrades
]
COMMANDS = [
    *READING_CASES,
    pytest.param(["--as", BM, "--now", NOW, "overdue"], id="overdue"),
    pytest.param(["--as", BM, "--now", NOW, "tick"], id="tick"),
]
# Damage that every command meets on opening the file or reading the schema. Damage to
# one table's pages is met by the commands that read that table (below): SQLite finds a
# bad page when it reads it, and a command that never reads it cannot tell.
DAMAGE = [random_bytes, header_then_noise, cut_to_three_pages, cut_in_half, middle_pages,
          schema_pages]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(params=DAMAGE, ids=[d.__name__ for d in DAMAGE])
def damaged(request, scr, case_template) -> Scr:
    """`scr` on a copy of the board with one case, its database file damaged."""
    _copy_db(case_template, scr.cwd)
    request.param(scr.cwd / "scr.db")
    return scr


@pytest.mark.parametrize("args", COMMANDS)
def test_a_damaged_database_is_reported_as_damaged(damaged, args):
    """Whatever the command and the damage: one line saying the file is damaged, exit 2,
    and the file untouched."""
    file = damaged.cwd / "scr.db"
    before = digest(file)
    result = damaged(*args)
    lines = result.err.strip().splitlines()
    assert result.code == 2, (args, result.code, result.err)
    assert len(lines) == 1 and lines[0].startswith("error: the database file is damaged: "), \
        result.err
    assert "Traceback" not in result.err and result.out == ""
    assert digest(file) == before


@pytest.mark.parametrize("args", READING_CASES)
def test_a_damaged_cases_table_is_reported_by_what_reads_it(scr, case_template, args):
    """The cases table's root page overwritten: each command that reads cases (and init,
    which checks every page) says the file is damaged, exit 2, the file untouched."""
    _copy_db(case_template, scr.cwd)
    cases_table(scr.cwd / "scr.db")
    before = digest(scr.cwd / "scr.db")
    result = scr(*args)
    assert result.code == 2, (args, result.code, result.err)
    assert result.err.startswith("error: the database file is damaged: "), result.err
    assert len(result.err.strip().splitlines()) == 1 and result.out == ""
    assert digest(scr.cwd / "scr.db") == before


def test_an_empty_file_is_still_a_database_to_initialise(tmp_path):
    """An empty file is not damage: SQLite takes it as an empty database, and commands
    other than init still point to `scr init`."""
    (tmp_path / "scr.db").touch()
    scr = Scr.in_dir(tmp_path)
    result = scr("list")
    assert result.code == 2 and "run scr init" in result.err
    scr.ok("init")


def test_the_daemon_checks_every_page_before_it_starts(scr, case_template):
    """A damaged table that nothing reads at start (the outputs) would otherwise be met
    only when a timer of a published case fell due: the daemon refuses to start."""
    _copy_db(case_template, scr.cwd)
    overwrite_table(scr.cwd / "scr.db", "outputs")
    before = digest(scr.cwd / "scr.db")
    result = scr("--now", NOW, "daemon", "--interval", "1", timeout=30)
    assert result.code == 2, result.err
    assert result.err.startswith("error: the database file is damaged: "), result.err
    assert len(result.err.strip().splitlines()) == 1
    assert digest(scr.cwd / "scr.db") == before
