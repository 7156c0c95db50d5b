"""The tests' clock: which moment a test means by "now", and how every process the tests
start is given the same moved wall clock (tests/ahead/sitecustomize.py).

A test that builds a case at fixed dates runs its commands at fixed moments too (`--now`,
SCR_NOW, or `now=` to the engine). A test that means the real present reads it once with
`present()` and builds everything relative to it, so the suite passes on any date; CI runs it
again with the clock moved 400 days and three years ahead (.ci/run) to keep it so.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AHEAD = Path(__file__).resolve().parent / "ahead"
DAYS_AHEAD = "TESTS_DAYS_AHEAD"


def present() -> datetime:
    """The moment the test runs as (moved ahead in the CI passes that move the clock)."""
    return datetime.now(UTC)


def days_ahead() -> int:
    """How many days this run's clock is moved ahead of the real one (0: not moved)."""
    return int(os.environ.get(DAYS_AHEAD, "").strip() or 0)


def pythonpath() -> str:
    """PYTHONPATH for a process the tests start: this tree's code, and the moved clock."""
    return os.pathsep.join([str(ROOT), str(AHEAD)])
