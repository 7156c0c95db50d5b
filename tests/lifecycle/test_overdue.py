"""`scr overdue`: every deadline passed (or due within N working days), most urgent first,
with the people the timer level tells, and nothing once the deadline is met."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scr.states.enums import State
from tests.board import BELOW_THRESHOLD, BM, CHAIR, HEALTH, POLICE, SUBCHAIR
from tests.conftest import T0
from tests.lifecycle.views_cli import InProcess

H = timedelta(hours=1)


@pytest.fixture
def scr(monkeypatch, capsys, sqlite_url) -> InProcess:
    return InProcess(monkeypatch, capsys, sqlite_url)


def names(entry) -> list[str]:
    return [p["name"] for p in entry["who"]]


def test_triage_escalation_passed_tells_the_chair(board, scr):
    """Referred Mon 23 Nov: triage is overdue from Mon 30 Nov, the chair and manager must act."""
    ref = board.refer(at=T0)
    before = scr.ok("--now", "2026-11-27T10:00", "overdue")
    assert before.out.strip() == "no deadline has passed"
    entries = scr.ok("--now", "2026-12-01T10:00", "overdue", "--json").json()
    assert [(e["ref"], e["ladder"], e["level"]) for e in entries] == [
        (ref, "triage", "escalation")]
    entry = entries[0]
    assert entry["due_at"] == "2026-11-30T10:00:00+00:00"
    assert entry["overdue"] is True and entry["working_days"] == 1
    assert names(entry) == [BM, CHAIR]
    text = scr.ok("--now", "2026-12-01T10:00", "overdue").out
    assert "OVERDUE by 1 working day " in text and "Bea Manager, Ivy Chair" in text


def test_within_counts_working_days_ahead(board, scr):
    """On Fri 27 Nov the Monday escalation is within 1 working day but not within 0."""
    ref = board.refer(at=T0)
    assert scr.ok("--now", "2026-11-27T10:00", "overdue", "--json").json() == []
    soon = scr.ok("--now", "2026-11-27T10:00", "overdue", "--within", "1", "--json").json()
    assert [(e["ref"], e["overdue"], e["working_days"]) for e in soon] == [(ref, False, -1)]
    text = scr.ok("--now", "2026-11-27T10:00", "overdue", "--within", "1").out
    assert "due in 1 working day" in text
    bad = scr("overdue", "--within", "soon")
    assert bad.code == 2 and bad.err.startswith("error: argument --within")


def test_outstanding_returns_tell_only_the_agencies_still_owing(board, scr):
    """Health returned, police did not: police's lead and the manager must act, and the
    automatic submission is shown as scr's own; once police return, returns leave the list."""
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health,police")
    board.fire(ref, "record_return", at=T0 + 2 * H, by=HEALTH, agency="health", view="scr",
               summary="seen")
    now = "2026-12-15T12:00"  # returns due Mon 7 Dec 11:00; auto-submit Mon 14 Dec 11:00
    entries = scr.ok("--now", now, "overdue", "--json").json()
    assert [(e["ladder"], e["level"]) for e in entries] == [
        ("returns", "overdue"), ("returns_auto_submit", "transition")]
    assert names(entries[0]) == [BM, POLICE]
    assert names(entries[1]) == ["scr (automatic)", BM]
    assert entries[0]["working_days"] == 6
    # The daemon fires the overdue escalation (before the automatic submission is due).
    from scr.lifecycle.runtime.sweep import sweep

    fired = sweep(board.db, board.engine, datetime(2026, 12, 8, 12, 0, tzinfo=UTC))
    assert [f.timer for f in fired.of("fired")] == ["returns.overdue"]
    still = scr.ok("--now", now, "overdue", "--json").json()
    assert [e["ladder"] for e in still] == ["returns", "returns_auto_submit"]
    board.fire(ref, "record_return", at=T0 + 3 * H, by=POLICE, agency="police", view="scr",
               summary="seen")
    after = scr.ok("--now", now, "overdue", "--json").json()
    assert [e["ladder"] for e in after] == ["returns_auto_submit"]


def test_most_urgent_first_across_cases(board, scr):
    """The deadline passed longest ago comes first; a case that moved on drops out."""
    old = board.refer(at=T0)
    new = board.refer(BELOW_THRESHOLD, at=T0 + timedelta(days=2))
    gone = board.refer(at=T0)
    board.fire(gone, "withdraw", at=T0 + H, reason="duplicate")
    entries = scr.ok("--now", "2026-12-10T10:00", "overdue", "--json").json()
    assert [e["ref"] for e in entries] == [old, new]
    assert entries[0]["due_at"] < entries[1]["due_at"]


def test_open_action_past_due_until_completed(board, scr):
    """An open action is overdue the working day after its due date; completing it ends it."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.PUBLISHED, at=T0)
    board.fire(ref, "add_action", at=at + H, by=SUBCHAIR, agency="health",
               description="Update training", owner=HEALTH, due="2027-01-08")
    assert scr.ok("--now", "2027-01-08T17:00", "overdue", "--json").json() == []
    entries = scr.ok("--now", "2027-01-12T10:00", "overdue", "--json").json()
    assert [(e["deadline"], e["level"]) for e in entries] == [("Action due (action 1)",
                                                                "overdue")]
    assert names(entries[0]) == [BM, SUBCHAIR, HEALTH]
    board.fire(ref, "complete_action", at=at + 2 * H, by=HEALTH, action="1", evidence="done")
    assert scr.ok("--now", "2027-01-12T10:00", "overdue", "--json").json() == []


@pytest.mark.parametrize("regime", ["cspr", "scr2"])
def test_a_deadline_the_daemon_chased_stays_overdue_until_the_step_is_done(
        sqlite_db, scr, regime):
    """A notification already late when the case is referred: `scr overdue` lists it; the
    daemon fires its recurring level, which arms the next occurrence; the deadline still
    stands, with its own due moment, and goes once the notification is recorded."""
    from scr.lifecycle.runtime.sweep import sweep
    from tests.lifecycle.test_regimes import CSPR_REFERRAL, board_for

    board = board_for(sqlite_db, *(("cspr", "1") if regime == "cspr" else ("scr", "2")))
    board.seed_users()
    ref = board.refer({**CSPR_REFERRAL, "aware_on": "2026-11-16"}, at=T0)  # due Mon 23 Nov
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    def notification() -> list[tuple[str, str, bool]]:
        entries = scr.ok("--now", now.isoformat(), "overdue", "--json").json()
        return [(e["ref"], e["due_at"], e["overdue"]) for e in entries
                if e["ladder"] == "notification"]

    listed = notification()
    assert len(listed) == 1 and listed[0][0] == ref and listed[0][2] is True
    fired = sweep(board.db, board.engine, now)
    assert "notification.due" in [f.timer for f in fired.of("fired")]
    assert notification() == listed  # chased, still overdue, from the same due moment
    assert ref in scr.ok("--now", now.isoformat(), "overdue").out
    board.fire(ref, "record_notification", at=now + H, date="2026-11-24")
    assert notification() == []
