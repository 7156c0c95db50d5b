"""Engines and transactions for SQLite (WAL, BEGIN IMMEDIATE) and PostgreSQL.

`transaction(db)` is the one way into the database for a change: a SQLAlchemy Core
connection inside one transaction, handed to storage's verbs (storage.cases, .facts,
.history, .timers, .outbox, .users) and to nothing else. `reading(db)` is the same for
reads. No ORM session is opened on these paths.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError

from states.errors import Conflict, InvalidInput

# What the rest of the code holds without knowing SQLAlchemy: a database, and a
# transaction on it.
Database = Engine
Tx = Connection

BUSY_TIMEOUT_MS = 15_000
# The schema revision this code needs; tests assert it is Alembic's head.
SCHEMA_HEAD = "0007"
CONFLICT = "was changed by someone else at the same time; look again and retry"


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
        # path would cost more than the statement. Its errors are still SQLAlchemy's. A
        # read (`reading`) begins DEFERRED: in WAL mode it sees one consistent snapshot and
        # neither waits for the writer nor makes it wait.
        driver = conn.connection.driver_connection
        begin = "BEGIN" if conn.get_execution_options().get(_READING) else "BEGIN IMMEDIATE"
        try:
            driver.execute(begin)
        except sqlite3.Error as error:
            raise exc.DBAPIError.instance(begin, (), error, sqlite3.Error,
                                          hide_parameters=True) from error


@contextmanager
def transaction(db: Engine) -> Iterator[Connection]:
    """One unit of work: commits when the block ends, rolls back on any exception."""
    with db.connect() as connection, connection.begin():
        yield connection


_READING = "scr_reading"


@contextmanager
def reading(db: Engine) -> Iterator[Connection]:
    """A read: one transaction that writes nothing (on SQLite it takes no writer lock)."""
    with db.connect().execution_options(**{_READING: True}) as connection, \
            connection.begin():
        yield connection


@contextmanager
def conflicts(ref: str) -> Iterator[None]:
    """Inside the block, a row that another transaction wrote first is a Conflict (exit 4)
    about case `ref`, not a database error."""
    try:
        yield
    except exc.IntegrityError:
        raise Conflict(f"{ref} {CONFLICT}") from None


def describe(error: Exception) -> str | None:
    """One line for a user about a database that could not be used, or None when `error`
    is not about the database."""
    if isinstance(error, exc.OperationalError):
        return ("the database could not be used ("
                + " ".join(str(error.orig).split())[:120] + "); nothing was written")
    return None


def schema_revision(db: Connection) -> str | None:
    """The Alembic revision of the database, or None when it holds no schema yet."""
    try:
        with db.begin_nested():
            row = db.execute(text("SELECT version_num FROM alembic_version")).first()
    except Exception:  # no alembic_version table: an empty database
        return None
    return row[0] if row else None


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for PostgreSQL, an in-memory database, or
    a URL that does not parse (make_engine reports that one)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def redact(url: str) -> str:
    """The URL with its password replaced, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"
