"""Shared fixtures: real databases (SQLite files in tmp_path, the PostgreSQL server on
127.0.0.1:5432), a seeded board of users, and a harness that fires triggers at moments."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine as DbEngine

from scr.lifecycle.log import configure as _configure_logging
from tests.board import PG_ADMIN_URL, Board, pg_available
from tests.clock import DAYS_AHEAD, days_ahead, present
from tests.smtp import (  # noqa: F401  (fixtures for every test)
    certificate,
    client_tls,
    credentials,
    server_tls,
    silent_server,
    start_server,
    unused_port,
)

IN_CI = os.environ.get("CI") == "true"

# pytest rewrites the asserts of every test module it imports, and keeps the result as a
# .pyc beside it unless bytecode is not to be written: where PYTHONDONTWRITEBYTECODE is set,
# each run (each xdist worker) would rewrite and compile all of them again, some 7 s of CPU
# a worker. The test modules' own bytecode is written (into __pycache__, ignored by git);
# processes the tests start still inherit the variable.
sys.dont_write_bytecode = False


def pytest_configure(config):
    """A run asked to move the clock (TESTS_DAYS_AHEAD) must have moved it in this process
    too, not only in the commands it starts: the Makefile puts tests/ahead on PYTHONPATH."""
    ahead = days_ahead()
    if ahead and abs((present() - datetime.fromtimestamp(_real_seconds(), UTC)).days
                     - ahead) > 1:
        raise pytest.UsageError(
            f"{DAYS_AHEAD}={ahead} needs tests/ahead on PYTHONPATH "
            f"(TESTS_DAYS_AHEAD={ahead} make test)")


# The single tests that take longest (5-25 s each), started first under --dist loadgroup:
# xdist hands the workers the groups first, the larger first, then the single tests in the
# order collected, so a long test collected late (the README's tour) kept one worker busy
# while the other had nothing left to run.
LONGEST_FIRST = (
    "tests/test_readme.py::test_the_tour_runs_as_written",
    "tests/cli/test_daemon_pg.py",
    "tests/cli/test_concurrency_cli.py",
    "tests/cli/test_daemon.py",
    "tests/test_package.py",
    "tests/cli/test_helping.py",
    "tests/cli/test_bad_input.py",
    "tests/lifecycle/test_properties.py",
)


def _longest_first(item) -> int:
    return next((n for n, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
                len(LONGEST_FIRST))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Under `--dist loadgroup` (make test), on each xdist worker: the longest tests first,
    and groups that group again. pytest-xdist sends the tests of an xdist_group to one
    worker by a suffix, @name, that each worker adds to their node ids in this hook; it
    writes the suffix to item._nodeid, which pytest 9 no longer reads (a node's id is
    item._id), so every group was silently split over the workers like any other tests:
    the module fixture of test_demo ran on both, and the crash tests beside the browser's.
    The same suffix is set here where pytest 9 reads it."""
    if not getattr(config.option, "loadgroup", False):
        return
    items.sort(key=_longest_first)  # stable: the rest keep the order they were collected in
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # a pytest before 9: xdist's own suffix takes
        return
    for item in items:
        names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                        for mark in item.iter_markers("xdist_group")})
        suffix = "@" + "_".join(names)
        if names and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)


def pytest_report_header(config):
    ahead = days_ahead()
    return [f"clock: moved {ahead} days ahead, to {present():%Y-%m-%d}" if ahead
            else "clock: the real one"]


def _real_seconds() -> float:
    """The kernel's own clock, which no library in this process can move: a file's mtime."""
    import tempfile

    with tempfile.NamedTemporaryFile() as probe:
        return os.stat(probe.name).st_mtime

# Tables fit the terminal's width where COLUMNS says one (lifecycle.views.text); pytest-xdist's
# workers inherit COLUMNS=80, so the tests would wrap differently from a run without them. A
# test about width sets COLUMNS itself.
for _size in ("COLUMNS", "LINES"):
    os.environ.pop(_size, None)


@pytest.fixture(autouse=True)
def _no_terminal_size(monkeypatch):
    for name in ("COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)

# Library code logs through structlog; in tests only warnings are shown (to stderr), as in
# one-shot commands. Tests about logging configure it themselves.
_configure_logging(level=logging.WARNING)
# Monday 23 November 2026, 10:00 in London (GMT): the tests' usual starting moment.
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """The URL of a SQLite file in this test's folder; nothing is there yet."""
    return f"sqlite:///{tmp_path / 'scr.db'}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite database migrated to the latest schema once per test process; tests get
    copies of it (migrating from scratch costs a quarter of a second each time)."""
    from scr.storage.db import make_engine
    from scr.storage.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "scr.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL admin URL; skips when no server answers, except under CI=true."""
    if not pg_available():
        if IN_CI:
            pytest.fail("PostgreSQL on 127.0.0.1:5432 does not answer, and CI=true needs it")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 does not answer (start it with "
                    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)")
    return PG_ADMIN_URL


@contextmanager
def _pg_database(server: str, template: str | None = None) -> Iterator[str]:
    """A database of our own on the server (a copy of `template`), dropped afterwards."""
    from scr.storage.db import make_engine

    name = f"scr_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    """An empty database of this test's own on the PostgreSQL server, dropped afterwards."""
    with _pg_database(pg_server) as url:
        yield url


@pytest.fixture(scope="session")
def pg_template(pg_server) -> Iterator[str]:
    """A PostgreSQL database migrated once per test process, copied for each test."""
    from scr.storage.db import make_engine
    from scr.storage.migrate import upgrade

    with _pg_database(pg_server) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()  # a template must have no connection when it is copied
        yield url.rsplit("/", 1)[1]


@pytest.fixture
def pg_migrated_url(pg_server, pg_template) -> Iterator[str]:
    """A database of this test's own at the latest schema, dropped afterwards."""
    with _pg_database(pg_server, pg_template) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    """Each test using it runs once on SQLite and once on PostgreSQL (an empty database)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request) -> Iterator[DbEngine]:
    """A database at the latest schema: each test using it runs on SQLite and PostgreSQL."""
    from scr.storage.db import make_engine

    if request.param == "sqlite":
        engine = request.getfixturevalue("sqlite_db")
        yield engine
        return
    engine = make_engine(request.getfixturevalue("pg_migrated_url"))
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_db(sqlite_url, sqlite_template) -> Iterator[DbEngine]:
    from scr.storage.db import make_engine

    shutil.copyfile(sqlite_template, sqlite_url.removeprefix("sqlite:///"))
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory, sqlite_template) -> Path:
    """The migrated template with the board's users in it (Board.seed_users, at T0), made
    once per test process: `board` copies it instead of seeding its users each time."""
    from scr.storage.db import make_engine

    path = tmp_path_factory.mktemp("seeded") / "scr.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    Board(engine).seed_users()
    engine.dispose()
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture
def board(request, sqlite_url, seeded_template) -> Iterator[Board]:
    """A board on SQLite with one user of every role, ready to fire triggers: a copy of the
    seeded template. A test that also takes sqlite_db gets its users seeded on that one."""
    if "sqlite_db" in request.fixturenames:
        b = Board(request.getfixturevalue("sqlite_db"))
        b.seed_users()
        yield b
        return
    from scr.storage.db import make_engine

    shutil.copyfile(seeded_template, sqlite_url.removeprefix("sqlite:///"))
    engine = make_engine(sqlite_url)
    yield Board(engine)
    engine.dispose()


@pytest.fixture
def any_board(db) -> Board:
    """The same on each database: the contract suites (engine, sweep, delivery) take it as
    their `board`, so every test of theirs runs on SQLite and on PostgreSQL."""
    b = Board(db)
    b.seed_users()
    return b


@pytest.fixture
def pg_board(pg_migrated_url) -> Iterator[Board]:
    from scr.storage.db import make_engine

    engine = make_engine(pg_migrated_url)
    b = Board(engine)
    b.seed_users()
    yield b
    engine.dispose()


@pytest.fixture(scope="module")
def shared_board(tmp_path_factory, sqlite_template) -> Iterator[Board]:
    """One SQLite board for a whole module: tests that each use cases of their own."""
    from scr.storage.db import make_engine

    path = tmp_path_factory.mktemp("board") / "scr.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    b = Board(engine)
    b.seed_users()
    yield b
    engine.dispose()
