"""Engines and transactions for SQLite (WAL, BEGIN IMMEDIATE) and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from states.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlmodel import Session

BUSY_TIMEOUT_MS = 15_000
# The schema revision this code needs; tests assert it is Alembic's head.
SCHEMA_HEAD = "0003"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and exclusive-on-begin writes.

    SQLite ignores `FOR UPDATE`, so every transaction starts with BEGIN IMMEDIATE: the
    writer lock is taken before the case is read, and two writers never interleave.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(f"not a database URL: {redact(url)}") from None
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _sqlite_events(engine)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInput(f"unsupported database: {parsed.get_backend_name()} (use sqlite or "
                           "postgresql)")
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event, not the driver, decide when transactions start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed transition survives a power cut, not only a crash. Its e-mail may
        # already be on its way by then, so losing the commit would leave the record behind
        # what people were told.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # On the driver itself: every transaction starts here, and SQLAlchemy's execution
        # path would cost more than the statement. Its errors are still SQLAlchemy's.
        driver = conn.connection.driver_connection
        try:
            driver.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise exc.DBAPIError.instance("BEGIN IMMEDIATE", (), error, sqlite3.Error,
                                          hide_parameters=True) from error


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits when the block ends, rolls back on any exception."""
    from sqlmodel import Session  # the ORM is slow to import; reads need not pay for it

    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read without the ORM: one transaction on a Core connection, for statements on
    storage.tables (the reading commands, which a person waits for from a cold start)."""
    with engine.connect() as connection, connection.begin():
        yield connection


def schema_revision(db: Session | Connection) -> str | None:
    """The Alembic revision of the database, or None when it holds no schema yet."""
    try:
        with db.begin_nested():
            row = db.execute(text("SELECT version_num FROM alembic_version")).first()
    except Exception:  # no alembic_version table: an empty database
        return None
    return row[0] if row else None


def redact(url: str) -> str:
    """The URL with its password replaced, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"
