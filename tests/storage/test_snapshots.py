"""Many cases' snapshots read at once (storage.cases.snapshots, which the portal's inbox
uses) are the snapshots read one by one, in a fixed number of statements, on SQLite and on
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from scr.states.enums import State
from scr.storage import cases, facts, timers
from scr.storage.db import reading, transaction
from tests.board import BELOW_THRESHOLD, BM, CHAIR, QUORUM, SUBCHAIR
from tests.conftest import T0
from tests.lifecycle.test_learning import NATIONAL
from tests.statements import counted


def _cases_in_many_states(board) -> list[str]:
    """Cases at each point of the usual path, one below the threshold, a learning record
    from elsewhere (tests/lifecycle/test_learning.py), and one referred back
    by the chair (its sub-group meeting is of an earlier stay in the state)."""
    refs = []
    for target in (State.REFERRAL, State.INFORMATION_REQUEST, State.CHAIR_DECISION,
                   State.PUBLISHED, State.ACTIONS_SIGNED_OFF):
        ref = board.refer(at=T0)
        board.walk(ref, target, at=T0)
        refs.append(ref)
    refs.append(board.refer(BELOW_THRESHOLD, at=T0))
    with transaction(board.db) as tx:
        refs.append(board.engine.refer(tx, actor=board.actor(BM), params=NATIONAL, now=T0,
                                       process_name="learning").ref)
    back = board.refer(at=T0)
    t = board.walk(back, State.CHAIR_DECISION, at=T0)
    board.fire(back, "refer_back", at=t + timedelta(hours=1), by=CHAIR, reason="more needed")
    board.fire(back, "record_meeting", at=t + timedelta(hours=2), by=SUBCHAIR,
               date=(t + timedelta(hours=2)).date().isoformat(), attendees=QUORUM)
    refs.append(back)
    return refs


def test_the_snapshots_of_many_cases_are_each_ones_own(any_board):
    refs = _cases_in_many_states(any_board)
    with reading(any_board.db) as tx:
        records = [cases.load(tx, ref) for ref in refs]
        one_by_one = {c.id: cases.snapshot(tx, c) for c in records}
        with counted() as seen:
            together = cases.snapshots(tx, records)
    assert together == one_by_one
    assert len(seen) == 5
    assert {s.state for s in together.values()} >= {"referral", "chair_decision", "published"}
    assert any(s.meetings for s in together.values())
    assert any(s.actions for s in together.values()) and any(s.outputs for s in together.values())


def test_the_pending_timers_of_many_cases_are_each_ones_own(any_board):
    refs = _cases_in_many_states(any_board)
    with reading(any_board.db) as tx:
        ids = [cases.load(tx, ref).id for ref in refs]
        one_by_one = {i: sorted(timers.pending(tx, i), key=lambda t: t.id) for i in ids}
        together = {i: sorted(ts, key=lambda t: t.id)
                    for i, ts in timers.pending_of(tx, ids).items()}
    assert together == one_by_one
    assert sum(len(ts) for ts in together.values()) > len(ids)


def test_no_cases_no_statements(board):
    with reading(board.db) as tx, counted() as seen:
        assert cases.snapshots(tx, []) == {} and timers.pending_of(tx, []) == {}
    assert seen == []


def test_the_snapshot_made_from_the_whole_case_is_the_one_read(any_board):
    """The portal's case page judges what may be done from the facts it read for the page
    (storage.facts.whole), not from a second read: the two must agree."""
    refs = _cases_in_many_states(any_board)
    with reading(any_board.db) as tx:
        records = [cases.load(tx, ref) for ref in refs]
        read = {c.id: cases.snapshot(tx, c) for c in records}
        wholes, cost = {}, {}
        for c in records:
            with counted() as seen:
                wholes[c.id] = facts.whole(tx, c.id)
            cost[c.state] = len(seen)
        made = {c.id: cases.snapshot_of(c, wholes[c.id]) for c in records}
    assert made == read
    # One statement, then one for each of the agencies, meetings, outputs and actions the
    # case has any of (no audits or training recorded on these).
    assert cost["referral"] == 1 and cost["information_request"] == 2
    assert cost["actions_signed_off"] == 5
    assert sum(1 for w in wholes.values() if w.referral is None and w.learning) == 1
