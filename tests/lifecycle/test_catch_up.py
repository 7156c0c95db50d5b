"""Catching up after an outage of months : deadlines and timed transitions fire
once, a ladder fires only its highest due level, recurring timers fire once and are armed
again in the future, and the history records how late each one was. On SQLite and on
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scr.lifecycle.runtime.delivery import composed
from scr.states.enums import State
from tests.board import BELOW_THRESHOLD, CHAIR, SCR_REFERRAL, SUBCHAIR, Board
from tests.conftest import T0
from tests.lifecycle.sweeping import by_name, firings, history, sweep_at, timers

H = timedelta(hours=1)
BACK = datetime(2028, 1, 24, 10, 0, tzinfo=UTC)  # 14 months after T0


@pytest.fixture(params=["sqlite", "postgresql"])
def any_board(request) -> Board:
    return request.getfixturevalue("board" if request.param == "sqlite" else "pg_board")


def _cases(board: Board) -> dict[str, str]:
    """One case in each state that arms timers, all set going around T0."""
    refs = {"referral": board.refer(at=T0)}
    refs["information_request"] = board.refer(at=T0)
    board.fire(refs["information_request"], "request_information", at=T0 + H,
               agencies="health,police")
    refs["review"] = board.refer(at=T0)
    board.walk(refs["review"], State.REVIEW, at=T0)
    refs["publication_hold"] = board.refer({**SCR_REFERRAL, "criminal_proceedings": True},
                                           at=T0)
    at = board.walk(refs["publication_hold"], State.PUBLICATION_HOLD, at=T0)
    board.fire(refs["publication_hold"], "send_prepublication_notice", at=at + H)
    board.fire(refs["publication_hold"], "schedule_publication", at=at + 2 * H,
               date="2027-02-01")
    refs["published"] = board.refer(at=T0)
    at = board.walk(refs["published"], State.PUBLISHED, at=T0)
    board.fire(refs["published"], "add_action", at=at + H, by=SUBCHAIR, agency="health",
               description="Training", owner="Hal Health", due="2027-01-15")
    refs["closed"] = board.refer(BELOW_THRESHOLD, at=T0)
    at = board.walk(refs["closed"], State.CHAIR_DECISION, at=T0, scr=False)
    board.fire(refs["closed"], "decide_no_review", at=at + H, by=CHAIR, reason="no learning")
    return refs


EXPECTED = {
    "referral": ({"triage.escalation"}, {"triage.reminder"}),
    "information_request": ({"returns.overdue", "returns_auto_submit.transition"},
                            {"returns.reminder"}),
    "review": ({"completion.overdue"}, {"completion.reminder", "completion.due"}),
    "publication_hold": ({"proceedings_check.check", "publication.transition",
                          "long_hold.escalation"}, set()),
    "published": ({"action.1.overdue"}, {"action.1.reminder"}),
    "closed": ({"panel.due"}, {"panel.reminder"}),
}


def test_catch_up_after_fourteen_months_fires_each_thing_once(any_board):
    """One sweep after a 14-month outage: the highest due level of each ladder and every
    deadline and timed transition fire once, lower levels are skipped, recurring timers are
    re-armed after now, and a second sweep finds nothing to do."""
    board = any_board
    refs = _cases(board)
    report = sweep_at(board, BACK)
    for state, ref in refs.items():
        fired, skipped = EXPECTED[state]
        rows = timers(board, ref)
        assert {t.name for t in rows if t.status == "fired"} == fired, state
        assert {t.name for t in rows if t.status == "skipped"} == skipped, state
    assert len(report.of("fired", "blocked")) == sum(len(f) for f, _ in EXPECTED.values())
    assert report.errors == [] and report.busy == 0
    assert sweep_at(board, BACK).firings == []
    assert sweep_at(board, BACK + 2 * H).firings == []


def test_each_fired_timer_has_one_late_history_row_and_skipped_ones_none(any_board):
    """The history holds one row per fired timer, at the sweep's moment with the moment it
    was due; skipped levels leave no row; e-mail says how late."""
    board = any_board
    refs = _cases(board)
    sweep_at(board, BACK)
    for ref in refs.values():
        fired = {t.due_at: t for t in timers(board, ref) if t.status == "fired"}
        late_rows = [h for h in history(board, ref) if h.due_at is not None]
        assert sorted(h.due_at for h in late_rows) == sorted(fired), ref
        assert all(h.at == BACK and h.actor == "system" for h in late_rows)
        assert all(h.due_at < BACK - timedelta(days=60) for h in late_rows)
    [overdue] = firings(board, refs["published"])
    assert overdue.row.params == {"timer": "action", "level": "overdue", "key": "1"}
    assert all("Late:" in composed(m).text and "after it was due" in composed(m).text
               for m in overdue.mail)


def test_recurring_timers_fire_once_and_are_armed_again_after_now(any_board):
    """The monthly overdue escalation and the 20-working-day proceedings check fire once for
    all the occurrences missed, and their next occurrence is the first one after now."""
    board = any_board
    refs = _cases(board)
    sweep_at(board, BACK)
    completion = by_name(timers(board, refs["review"], "pending"))["completion.overdue"]
    assert BACK < completion.due_at <= BACK + timedelta(days=31)
    assert completion.sequence == 1
    check = by_name(timers(board, refs["publication_hold"], "pending"))[
        "proceedings_check.check"]
    assert BACK < check.due_at <= BACK + timedelta(days=30)
    assert fired_once(board, refs["review"], "completion", "overdue")
    assert fired_once(board, refs["publication_hold"], "proceedings_check", "check")


def test_timed_transitions_after_the_outage(any_board):
    """The auto-submission happened (flagged incomplete_returns) and the blocked publication
    was escalated once, with its reason; both record how late they were."""
    board = any_board
    refs = _cases(board)
    sweep_at(board, BACK)
    submitted = board.case(refs["information_request"])
    assert submitted.state == "sub_group" and "incomplete_returns" in submitted.flags
    [submit] = firings(board, refs["information_request"], "submit_to_sub_group")
    assert submit.row.due_at < BACK - timedelta(days=300)
    assert board.state(refs["publication_hold"]) == "publication_hold"
    blocked = [f for f in firings(board, refs["publication_hold"])
               if f.row.params.get("level") == "blocked"]
    assert len(blocked) == 1
    assert all("criminal proceedings are pending" in composed(m).text for m in blocked[0].mail)
    # The sub-group's own timers start from the moment of the (late) submission.
    armed = by_name(timers(board, refs["information_request"], "pending"))
    assert armed["recommendation.escalation"].due_at > BACK


def fired_once(board: Board, ref: str, ladder: str, level: str) -> bool:
    rows = [f for f in firings(board, ref)
            if f.row.params == {"timer": ladder, "level": level}]
    return len(rows) == 1
