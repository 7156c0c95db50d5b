"""Engines and transactions for SQLite (WAL, BEGIN IMMEDIATE) and PostgreSQL.

`transaction(db)` is the one way into the database for a change: a SQLAlchemy Core
connection inside one transaction, handed to storage's verbs (storage.cases, .facts,
.history, .timers, .outbox, .users) and to nothing else. `reading(db)` is the same for
reads. No ORM session is opened on these paths.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError

from scr.states.errors import Conflict, InvalidInput

# What the rest of the code holds without knowing SQLAlchemy: a database, and a
# transaction on it.
Database = Engine
Tx = Connection

BUSY_TIMEOUT_MS = 15_000
# The schema revision this code needs; tests assert it is Alembic's head.
SCHEMA_HEAD = "0011"
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


# SQLite's primary result codes for a file that is not, or is no longer, a sound database
# (https://www.sqlite.org/rescode.html): SQLITE_CORRUPT and SQLITE_NOTADB. PostgreSQL's
# SQLSTATE class XX: data_corrupted and index_corrupted.
_SQLITE_DAMAGE = {11, 26}
_POSTGRESQL_DAMAGE = {"XX001", "XX002"}


def damage(error: BaseException) -> str | None:
    """The driver's own words when `error` (or the error it wraps) says the database file is
    damaged: corrupt pages, a truncated file, or a file that is not a database at all; None
    for any other error."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "sqlite_errorcode", None)
        if isinstance(current, sqlite3.DatabaseError) and isinstance(code, int) \
                and code & 0xFF in _SQLITE_DAMAGE:
            return " ".join(str(current).split())[:120]
        if getattr(current, "sqlstate", None) in _POSTGRESQL_DAMAGE:
            return " ".join(str(current).split())[:120]
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def damaged(error: BaseException) -> InvalidInput | None:
    """The error to report (exit 2) when `error` says the database file is damaged."""
    found = damage(error)
    return None if found is None else _damaged(found)


def _damaged(found: str) -> InvalidInput:
    return InvalidInput(f"the database file is damaged: {found}; nothing was written (restore "
                        "the latest backup with scr restore FILE)")


def check_intact(db: Engine) -> None:
    """SQLite's quick check of every page of the database (PRAGMA quick_check); the error
    of `damaged` when it finds a fault. PostgreSQL checks its own pages as it reads them."""
    if not is_sqlite(db):
        return
    try:
        with reading(db) as connection:
            found = [row[0] for row in connection.exec_driver_sql("PRAGMA quick_check")]
    except exc.DBAPIError as error:
        problem = damaged(error)
        if problem is None:
            raise
        raise problem from None
    if found != ["ok"]:
        raise _damaged(" ".join(str(found[0]).split())[:120])


def describe(error: Exception) -> str | None:
    """One line for a user about a database that could not be used, or None when `error`
    is not about the database."""
    problem = damaged(error)
    if problem is not None:
        return str(problem)
    if isinstance(error, exc.OperationalError):
        return ("the database could not be used ("
                + " ".join(str(error.orig).split())[:120] + "); nothing was written")
    return None


def schema_revision(db: Connection) -> str | None:
    """The Alembic revision of the database, or None when it holds no schema yet."""
    asking = text("SELECT version_num FROM alembic_version")
    try:
        if db.dialect.name == "postgresql":
            # A failed statement aborts a PostgreSQL transaction: ask inside a savepoint.
            with db.begin_nested():
                row = db.execute(asking).first()
        else:
            row = db.execute(asking).first()
    except (exc.OperationalError, exc.ProgrammingError) as error:
        # No alembic_version table: an empty database. Anything else (a damaged file, a
        # locked one) is no reason to offer `scr init`, and is raised.
        if isinstance(error, exc.OperationalError) and "no such table" not in str(error.orig):
            raise
        return None
    return row[0] if row else None


def new_private_file(path: Path) -> None:
    """Make the empty file `path` for a SQLite database, readable and writable by its owner
    alone (0600, whatever the umask): SQLite gives the database's -wal and -shm files the
    database's own mode, so they are private too. InvalidInput if `path` exists or cannot
    be made."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        raise InvalidInput(f"{path} exists: choose a new file") from None
    except OSError as error:
        raise InvalidInput(f"cannot make {path}: {error.strerror or error.__class__.__name__}") \
            from None
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def remove_sqlite_file(path: Path) -> None:
    """Remove the database file `path` and any journal, -wal or -shm file beside it."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


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
