"""A parameter named after a role (`lead_reviewer`) must name an active user holding that
role: a misspelt lead reviewer was accepted, and the real reviewer was then neither e-mailed
nor able to see the case (recipients and visibility match the exact name)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scr.lifecycle.core.engine import Engine
from scr.states.config import ProcessConfig
from scr.states.enums import State
from scr.states.errors import InvalidInput
from tests.board import CONSTABLE, HEALTH, ICB, LA, REVIEWER, Board
from tests.lifecycle.test_regimes import cspr_at_decision

H = timedelta(hours=1)
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def board(sqlite_db) -> Board:
    b = Board(sqlite_db, Engine(ProcessConfig(start=("cspr", "2")), check_snapshots=True))
    b.seed_users()
    return b


def commission(board: Board, ref: str, reviewer: str) -> None:
    board.fire(ref, "commission_practice_review", by=CONSTABLE, at=START + 12 * H,
               reason="improvements are likely", methodology="scie_systems",
               lead_reviewer=reviewer)


@pytest.mark.parametrize("reviewer", ["Lee Reveiwer", HEALTH])
def test_a_lead_reviewer_must_be_a_user_holding_the_role(board, reviewer):
    """A misspelt name, and a user who is no lead reviewer, are bad input: nothing moves."""
    ref = cspr_at_decision(board, at=START)
    for user, partner in ((LA, "local_authority"), (ICB, "integrated_care_board")):
        board.fire(ref, "record_partner_view", by=user, at=START + 10 * H, partner=partner,
                   decision="local_review")
    version = board.case(ref).version
    with pytest.raises(InvalidInput, match=f"no active user called '{reviewer}' holds the "
                                           "role lead_reviewer"):
        commission(board, ref, reviewer)
    assert (board.case(ref).version, board.state(ref)) == (version, State.CHAIR_DECISION)
    commission(board, ref, REVIEWER)
    assert (board.state(ref), board.case(ref).lead_reviewer) == (State.REVIEW, REVIEWER)
