"""Storage on SQLite and on PostgreSQL: migrations, UTC moments, locking and WAL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from scr.states.enums import State
from scr.states.errors import Conflict, Refused
from scr.storage import history, migrate
from scr.storage.db import SCHEMA_HEAD, make_engine, transaction
from scr.storage.models import Case
from tests.board import BM, Board
from tests.conftest import T0

TABLES = {"users", "user_roles", "user_audit", "cases", "referrals", "agency_requests",
          "meetings", "meeting_attendance", "outputs", "proceedings", "actions", "history",
          "timers", "outbox"}


def test_schema_head_is_what_the_code_needs():
    """The code's SCHEMA_HEAD is Alembic's head revision."""
    assert migrate.head() == SCHEMA_HEAD


def test_upgrade_from_empty_then_downgrade_and_again(db_url):
    """Alembic builds every table from empty, removes them all, and builds them again."""
    engine = make_engine(db_url)
    try:
        assert migrate.current(engine) is None
        migrate.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert migrate.current(engine) == SCHEMA_HEAD
        migrate.upgrade(engine)  # safe to run again
        migrate.downgrade(engine, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        migrate.upgrade(engine)
        assert migrate.current(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()


def test_moments_come_back_aware_in_utc(db):
    """12:00 at +01:00 is stored and read back as 11:00 UTC, aware, on both databases."""
    board = Board(db)
    board.seed_users()
    summer = datetime(2027, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    ref = board.refer(at=summer)
    case = board.case(ref)
    assert case.referred_at == datetime(2027, 7, 1, 11, 0, tzinfo=UTC)
    assert case.referred_at.tzinfo is not None
    with transaction(db) as s:
        stored = s.execute(text("SELECT referred_at FROM cases")).scalar_one()
    as_text = str(stored)
    assert as_text.startswith("2027-07-01 11:00")


def test_naive_moments_are_refused(sqlite_db):
    """A naive datetime never reaches the database."""
    board = Board(sqlite_db)
    board.seed_users()
    with pytest.raises(Exception, match="timezone-aware"):
        board.refer(at=datetime(2026, 11, 23, 10, 0))


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_db):
    """SQLite connections use WAL, foreign keys and a busy timeout."""
    with sqlite_db.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_json_flags_are_saved_when_replaced(db):
    """A flag set by a trigger survives the round trip (the JSON column is reassigned)."""
    board = Board(db)
    board.seed_users()
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + timedelta(hours=1), agencies="health",
               urgent="true")
    assert board.case(ref).flags == ["urgent"]


def test_whole_lifecycle_on_both_databases(db):
    """An SCR goes from referral to actions signed off on SQLite and on PostgreSQL alike."""
    board = Board(db)
    board.seed_users()
    ref = board.refer(at=T0)
    board.walk(ref, State.ACTIONS_SIGNED_OFF, at=T0)
    case = board.case(ref)
    assert case.state == "actions_signed_off"
    with transaction(db) as tx:
        assert len(history.of_case(tx, case.id)) == case.version


def test_stale_update_raises_on_postgres(pg_board):
    """Two ORM sessions read version N; the second to write gets StaleDataError, not a lost
    update (the model's version column, as the record's save checks it: test_prepared)."""
    ref = pg_board.refer(at=T0)
    with Session(pg_board.db) as first, Session(pg_board.db) as second:
        a = first.exec(select(Case).where(Case.ref == ref)).one()
        b = second.exec(select(Case).where(Case.ref == ref)).one()
        a.pseudonym = "Child K1"
        first.commit()
        b.pseudonym = "Child K2"
        with pytest.raises(StaleDataError):
            second.commit()
    assert pg_board.case(ref).pseudonym == "Child K1"


def test_concurrent_firings_on_postgres_land_once(pg_board):
    """Eight threads fire the same trigger on one case: exactly one lands; the others are
    refused or in conflict, and the history holds it once."""
    ref = pg_board.refer(at=T0)
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def attempt() -> None:
        start.wait()
        try:
            pg_board.fire(ref, "request_information", at=T0 + timedelta(hours=1), by=BM,
                          agencies="health")
            result = "done"
        except (Refused, Conflict) as exc:
            result = type(exc).__name__
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("done") == 1 and len(outcomes) == 8
    case = pg_board.case(ref)
    with transaction(pg_board.db) as tx:
        triggers = [h.trigger for h in history.of_case(tx, case.id)]
    assert triggers == ["refer", "request_information"]
    assert case.version == 2


def test_reference_numbers_are_unique_under_concurrency(pg_board):
    """Referrals made at once on PostgreSQL get distinct, consecutive references."""
    refs: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def refer() -> None:
        start.wait()
        ref = pg_board.refer(at=T0)
        with lock:
            refs.append(ref)

    threads = [threading.Thread(target=refer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(refs) == [f"CR-2026-{n:04d}" for n in range(1, 7)]


def test_case_rows_carry_the_definition_they_started_under(sqlite_db):
    """Each case records the name and version of the process definition it started under."""
    board = Board(sqlite_db)
    board.seed_users()
    ref = board.refer(at=T0)
    with Session(sqlite_db) as s:
        stored = s.get(Case, 1)
        assert stored is not None
        assert (stored.definition, stored.definition_version) == ("scr", "1")
    case = board.case(ref)
    assert (case.definition, case.definition_version) == ("scr", "1")
