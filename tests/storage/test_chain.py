"""The tamper-evident history: intact chains verify; an altered, removed or truncated row
is found; the database itself refuses UPDATE and DELETE on history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from scr.states.enums import State
from scr.storage import migrate
from scr.storage.db import reading
from scr.storage.history import verify
from tests.board import Board
from tests.cli.scr import Scr
from tests.conftest import T0


def lifecycle_board(db) -> Board:
    board = Board(db)
    board.seed_users()
    for _ in range(2):
        ref = board.refer(at=T0)
        board.walk(ref, State.PUBLISHED, at=T0)
    return board


def test_a_whole_lifecycle_verifies(db):
    """Every row of every case chains to the one before; the heads match (both databases)."""
    board = lifecycle_board(db)
    with reading(board.db) as tx:
        walk = verify(tx)
    assert walk.breaks == [] and walk.cases == 2 and walk.rows == 28
    assert walk.sealed == 2 and walk.unsealed == 0


@pytest.mark.parametrize("verb", ["UPDATE history SET reason = 'rewritten' WHERE seq = 3",
                                  "DELETE FROM history WHERE seq = 3"])
def test_sqlite_refuses_to_change_history(sqlite_db, verb):
    """On SQLite a trigger refuses UPDATE and DELETE of history rows."""
    lifecycle_board(sqlite_db)
    with sqlite_db.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(verb))


@pytest.mark.parametrize("verb", ["UPDATE history SET reason = 'rewritten' WHERE seq = 3",
                                  "DELETE FROM history WHERE seq = 3",
                                  "TRUNCATE history CASCADE"])
def test_postgres_refuses_to_change_history(pg_url, verb):
    """On PostgreSQL the database itself refuses UPDATE, DELETE and TRUNCATE of history."""
    from scr.storage.db import make_engine

    engine = make_engine(pg_url)
    try:
        migrate.upgrade(engine)
        lifecycle_board(engine)
        with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(verb))
    finally:
        engine.dispose()


def tamper(path, *statements: str) -> None:
    """What someone with the database file could do: drop the guard, then edit."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TRIGGER history_no_update")
        conn.execute("DROP TRIGGER history_no_delete")
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("statements", "problem"),
    [
        (["UPDATE history SET reason = 'tidied up' WHERE case_id = 2 AND seq = 4"],
         "CR-2026-0002 seq 4: row content does not match its hash"),
        (["DELETE FROM history WHERE case_id = 1 AND seq = 5"],
         "CR-2026-0001 seq 5: row missing"),
        (["DELETE FROM history WHERE case_id = 2 AND seq = (SELECT max(seq) FROM history "
          "WHERE case_id = 2)"], "CR-2026-0002: the newest history rows are missing"),
        (["UPDATE history SET actor = 'Ivy Chair' WHERE case_id = 1 AND seq = 2",
          "UPDATE history SET hash = 'f' || substr(hash, 2) WHERE case_id = 1 AND seq = 2"],
         "CR-2026-0001 seq 2: row content does not match its hash"),
    ],
)
def test_audit_verify_reports_the_first_broken_link(tmp_path, sqlite_url, statements, problem):
    """`scr audit verify` exits 5 naming the first broken link, whatever was tampered."""
    from scr.storage.db import make_engine

    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    lifecycle_board(engine)
    engine.dispose()
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)
    assert scr.ok("audit", "verify", "--json").json()["intact"] is True
    tamper(sqlite_url.removeprefix("sqlite:///"), *statements)
    result = scr("audit", "verify")
    assert result.code == 5
    assert result.err.startswith("error: the record does not verify: ")
    assert problem in result.err, result.err


def test_migration_chains_rows_written_before_it(sqlite_url):
    """Upgrading a database from 0001 chains the history it already holds."""
    from scr.storage.db import make_engine

    engine = make_engine(sqlite_url)
    try:
        migrate.upgrade(engine)
        lifecycle_board(engine)
        migrate.downgrade(engine, "0001")
        migrate.upgrade(engine)
        with reading(engine) as tx:
            walk = verify(tx)
        assert walk.breaks == [] and walk.rows == 28
    finally:
        engine.dispose()


def test_backup_restores_with_a_verified_chain(tmp_path, sqlite_url):
    """A backup taken while running restores over a changed database, chain verified."""
    from scr.storage.db import make_engine

    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    board = lifecycle_board(engine)
    engine.dispose()
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)
    taken = scr.ok("--as", "Bea Manager", "backup", str(tmp_path / "backup.db"),
                   "--json").json()
    assert taken["cases"] == 2
    assert (tmp_path / "backup.db").stat().st_mode & 0o077 == 0
    engine = make_engine(sqlite_url)
    board.db = engine
    board.refer(at=T0)  # a third case after the backup
    engine.dispose()
    restored = scr.ok("--as", "Bea Manager", "restore", str(tmp_path / "backup.db"),
                      "--json").json()
    assert restored["cases"] == 2
    assert len(scr.ok("list", "--json").json()) == 2
    assert scr.ok("audit", "verify", "--json").json()["intact"] is True
    # A tampered backup is refused and the live database left as it was.
    tamper(tmp_path / "backup.db", "UPDATE history SET reason = 'x' WHERE seq = 2")
    refused = scr("--as", "Bea Manager", "restore", str(tmp_path / "backup.db"))
    assert refused.code == 5 and "not restored" in refused.err
    assert len(scr.ok("list", "--json").json()) == 2


def _backed_up(tmp_path, sqlite_url):
    """A board of two cases and a backup of it taken by the real command."""
    from scr.storage.db import make_engine

    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    lifecycle_board(engine)
    engine.dispose()
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)
    scr.ok("--as", "Bea Manager", "backup", str(tmp_path / "backup.db"))
    return scr, tmp_path / "backup.db"


def _corrupt(path, at: int = 4096 * 3) -> None:
    """Overwrite part of a page in the middle of the file, as a failing disk would."""
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(b"\xde\xad\xbe\xef" * 256)


def test_a_backup_that_fails_the_integrity_check_is_not_restored(tmp_path, sqlite_url):
    scr, backup = _backed_up(tmp_path, sqlite_url)
    live = sqlite_url.removeprefix("sqlite:///")
    before = Path(live).read_bytes()
    _corrupt(backup)
    refused = scr("--as", "Bea Manager", "restore", str(backup))
    assert refused.code == 2 and refused.err.startswith("error: ")
    assert "fails SQLite's integrity check" in refused.err and "not restored" in refused.err
    assert Path(live).read_bytes() == before  # the healthy database is untouched
    assert scr.ok("audit", "verify", "--json").json()["intact"] is True


def test_a_restored_database_has_its_append_only_triggers_and_keeps_the_old(tmp_path,
                                                                             sqlite_url):
    scr, backup = _backed_up(tmp_path, sqlite_url)
    conn = sqlite3.connect(backup)  # a copy someone stripped of its triggers
    conn.execute("DROP TRIGGER history_no_update")
    conn.execute("DROP TRIGGER history_no_delete")
    conn.commit()
    conn.close()
    restored = scr.ok("--as", "Bea Manager", "restore", str(backup), "--json").json()
    kept = restored["replaced"]
    old = sqlite3.connect(kept)
    try:
        assert old.execute("SELECT count(*) FROM cases").fetchone()[0] == 2
    finally:
        old.close()
    live = sqlite_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(live)
    try:
        names = {n for (n,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {"history_no_update", "history_no_delete"} <= names
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE history SET reason = 'rewritten'")
    finally:
        conn.close()


def test_init_puts_back_missing_history_triggers(tmp_path, sqlite_url):
    scr, _backup = _backed_up(tmp_path, sqlite_url)
    live = sqlite_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(live)
    conn.execute("DROP TRIGGER history_no_delete")
    conn.commit()
    conn.close()
    done = scr.ok("init", "--json").json()
    assert done["triggers_restored"] == ["history_no_delete"]
    conn = sqlite3.connect(live)
    try:
        with pytest.raises(sqlite3.DatabaseError):
            conn.execute("DELETE FROM history")
    finally:
        conn.close()


def test_no_restore_while_a_daemon_holds_the_database(tmp_path, sqlite_url):
    from scr.lifecycle.runtime.daemon import single_daemon

    scr, backup = _backed_up(tmp_path, sqlite_url)
    with single_daemon(sqlite_url):
        refused = scr("--as", "Bea Manager", "restore", str(backup))
    assert refused.code == 3 and "another scr daemon" in refused.err
    assert len(scr.ok("list", "--json").json()) == 2


def test_a_backup_from_a_newer_scr_or_of_something_else_is_not_restored(tmp_path,
                                                                          sqlite_url):
    scr, backup = _backed_up(tmp_path, sqlite_url)
    live = Path(sqlite_url.removeprefix("sqlite:///"))
    before = live.read_bytes()
    conn = sqlite3.connect(backup)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    newer = scr("--as", "Bea Manager", "restore", str(backup))
    assert newer.code == 2 and "newer than this scr" in newer.err
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    foreign = scr("--as", "Bea Manager", "restore", str(other))
    assert foreign.code == 2 and "not an scr database" in foreign.err
    assert live.read_bytes() == before
