"""`scr complete` offers what the process definition's specs say a parameter takes: the
actions of the case that the trigger's own guards let it name, and the users holding the
role a parameter is named after. The real command, in this process, on a board's SQLite
database; the case is moved along at fixed moments and `--now` is one of them."""

from __future__ import annotations

import pytest

from scr.states.enums import State
from tests.board import HEALTH, REVIEWER, SUBCHAIR
from tests.cli.scr import Scr
from tests.conftest import T0


@pytest.fixture
def offered(board, sqlite_url, tmp_path):
    """The candidates `scr complete` gives (as zsh reads them) for a line, as of `at`."""
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)

    def complete(line: str, at: str) -> list[str]:
        out = scr.ok("--now", at, "complete", "--for", "zsh", "--", line).out
        return [c.removeprefix("F ") for c in out.splitlines()[1:]]

    return complete


def test_action_numbers_are_those_the_triggers_guards_let_it_name(board, offered):
    """Completing an action needs an open one, signing one off a completed one: each is
    offered only the actions that fail none of its guards (read off the definition)."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.PUBLISHED, at=T0)
    for agency in ("health", "police", "education"):
        board.fire(ref, "add_action", at=at, by=SUBCHAIR, agency=agency, description="x",
                   owner=HEALTH, due="2027-03-01")
    board.fire(ref, "complete_action", at=at, action="2", evidence="done")
    now = at.isoformat()
    assert offered(f"scr advance {ref} complete_action action=", now) == [
        "action=1", "action=3"]
    assert offered(f"scr advance {ref} sign_off_action action=", now) == ["action=2"]
    assert offered(f"scr why {ref} sign_off_action action=", now) == ["action=2"]
    board.fire(ref, "sign_off_action", at=at, by=SUBCHAIR, action="2")
    assert offered(f"scr advance {ref} sign_off_action action=", now) == []
    assert offered(f"scr advance {ref} add_action owner=Hal", now) == ["owner=Hal Health"]


def test_a_parameter_named_after_a_role_offers_who_holds_it(board, offered):
    """The lead reviewer a review is commissioned with: the users who hold that role."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.CHAIR_DECISION, at=T0)
    assert offered(f"scr advance {ref} commission_scr lead_reviewer=", at.isoformat()) == [
        f"lead_reviewer={REVIEWER}"]
