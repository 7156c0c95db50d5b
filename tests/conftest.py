"""Shared fixtures: real databases (SQLite files in tmp_path, the PostgreSQL server on
127.0.0.1:5432), a seeded board of users, and a harness that fires triggers at moments."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine as DbEngine

from lifecycle.log import configure as _configure_logging
from tests.board import PG_ADMIN_URL, Board, pg_available
from tests.smtp import (  # noqa: F401  (fixtures for every test)
    certificate,
    client_tls,
    credentials,
    server_tls,
    start_server,
    unused_port,
)

IN_CI = os.environ.get("CI") == "true"

# Library code logs through structlog; in tests only warnings are shown (to stderr), as in
# one-shot commands. Tests about logging configure it themselves.
_configure_logging(level=logging.WARNING)
# Monday 23 November 2026, 10:00 in London (GMT): the tests' usual starting moment.
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'scr.db'}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL admin URL; skips when no server answers, except under CI=true."""
    if not pg_available():
        if IN_CI:
            pytest.fail("PostgreSQL on 127.0.0.1:5432 does not answer, and CI=true needs it")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 does not answer (start it with "
                    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)")
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    """A database of this test's own on the PostgreSQL server, dropped afterwards."""
    from storage.db import make_engine

    name = f"scr_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db(db_url) -> Iterator[DbEngine]:
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_db(sqlite_url) -> Iterator[DbEngine]:
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def board(sqlite_db) -> Board:
    """A board on SQLite with one user of every role, ready to fire triggers."""
    b = Board(sqlite_db)
    b.seed_users()
    return b


@pytest.fixture
def pg_board(pg_url) -> Iterator[Board]:
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(pg_url)
    upgrade(engine)
    b = Board(engine)
    b.seed_users()
    yield b
    engine.dispose()


@pytest.fixture(scope="module")
def shared_board(tmp_path_factory) -> Iterator[Board]:
    """One SQLite board for a whole module: tests that each use cases of their own."""
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('board') / 'scr.db'}")
    upgrade(engine)
    b = Board(engine)
    b.seed_users()
    yield b
    engine.dispose()
