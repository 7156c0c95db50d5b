"""The tests' moved clock (tests/clock.py) reaches the real `scr` in a subprocess: a case
referred without --now is recorded at the moved moment, so the CI passes that move the clock
really run every command years ahead."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.board import BM
from tests.clock import DAYS_AHEAD, days_ahead, present


def test_a_command_reads_the_moved_wall_clock(scr, referral_file):
    moved = days_ahead() + 1096
    before = present() + timedelta(days=1096)
    case = scr.ok("--as", BM, "refer", "--file", referral_file(), "--json",
                  **{DAYS_AHEAD: str(moved)}).json()
    [row] = scr.ok("history", case["ref"], "--json").json()
    at = datetime.fromisoformat(row["at"])
    assert before <= at <= present() + timedelta(days=1096, minutes=5)
