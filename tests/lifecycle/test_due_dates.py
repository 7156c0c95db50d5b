"""Due moments of the real timers, armed by the engine on real cases, across Christmas, New
Year, Easter, substitute bank holidays and the clock changes (England and Wales, London).

Every expected moment is UTC and was worked out by hand from the 2026-2028 calendars:
Christmas 2026 is a Friday (Boxing Day's substitute Monday 28 Dec), New Year's Day 2027 a
Friday; Christmas 2027 a Saturday (substitutes Mon 27 and Tue 28 Dec), New Year's Day 2028
a Saturday (substitute Mon 3 Jan); Easter 2027: Good Friday 26 Mar, Easter Monday 29 Mar;
British Summer Time from Sun 28 Mar 2027, GMT again from Sun 25 Oct 2026.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scr.states.enums import State
from tests import records
from tests.board import CHAIR, CSC, HEALTH, POLICE, SUBCHAIR, Board

EARLY_INCIDENT = {
    "pseudonym": "Child D", "incident_date": "2026-01-05", "harm": "death",
    "abuse": "suspected", "route": "child_death_review",
}
BELOW = {**EARLY_INCIDENT, "harm": "serious_harm", "agency_concern": False,
         "route": "professional", "referrer_agency": "health"}
RETURNS = (("childrens_social_care", CSC), ("health", HEALTH), ("police", POLICE))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def pending(board: Board, ref: str) -> dict[str, object]:
    return records.timers_by_name(board.db, ref, "pending")


def at_information_request(board: Board, referred: datetime, requested: datetime) -> str:
    ref = board.refer(EARLY_INCIDENT, at=referred)
    board.fire(ref, "request_information", at=requested,
               agencies="childrens_social_care,health,police")
    return ref


def at_sub_group(board: Board, start: datetime, submitted: datetime, **submit: str) -> str:
    ref = at_information_request(board, start, start.replace(hour=11))
    for hour, (agency, lead) in enumerate(RETURNS, start=12):
        board.fire(ref, "record_return", at=start.replace(hour=hour), by=lead, agency=agency,
                   view="scr", summary="seen")
    board.fire(ref, "submit_to_sub_group", at=submitted, **submit)
    return ref


def test_returns_requested_before_christmas_2026(shared_board):
    """A request on Tue 22 Dec 2026 10:00 is due Fri 8 Jan 2027 (10 WD skip 25 and 28 Dec
    and 1 Jan), reminded Wed 6 Jan, and auto-submitted Fri 15 Jan."""
    ref = at_information_request(shared_board, utc(2026, 12, 21, 10), utc(2026, 12, 22, 10))
    armed = pending(shared_board, ref)
    assert armed["returns.overdue"].due_at == utc(2027, 1, 8, 10)
    assert armed["returns.reminder"].due_at == utc(2027, 1, 6, 10)
    assert armed["returns_auto_submit.transition"].due_at == utc(2027, 1, 15, 10)
    assert "England and Wales bank holidays skipped" in armed["returns.reminder"].rule
    assert "GB-ENG" not in armed["returns.reminder"].rule and "GMT" not in \
        armed["returns.reminder"].rule
    assert "2 working days before the returns deadline" in armed["returns.reminder"].rule


def test_returns_across_the_autumn_clock_change(shared_board):
    """10:00 BST on Fri 23 Oct 2026 plus 10 WD is 10:00 GMT on Fri 6 Nov: 10:00 UTC."""
    ref = at_information_request(shared_board, utc(2026, 10, 22, 9), utc(2026, 10, 23, 9))
    assert pending(shared_board, ref)["returns.overdue"].due_at == utc(2026, 11, 6, 10)


def test_triage_across_easter_2027_and_the_spring_clock_change(shared_board):
    """A referral at 10:00 GMT on Wed 24 Mar 2027 is reminded Wed 31 Mar and escalated Fri
    2 Apr, both at 10:00 BST (09:00 UTC): Good Friday and Easter Monday are skipped."""
    ref = shared_board.refer(EARLY_INCIDENT, at=utc(2027, 3, 24, 10))
    armed = pending(shared_board, ref)
    assert armed["triage.reminder"].due_at == utc(2027, 3, 31, 9)
    assert armed["triage.escalation"].due_at == utc(2027, 4, 2, 9)


@pytest.mark.parametrize(
    ("submit", "escalation", "chair"),
    [
        # Meeting Thu 23 Dec 2027: 1 WD later is Fri 24 Dec 09:00; then 5 WD skip the
        # substitute days 27, 28 Dec and 3 Jan 2028.
        ({"meeting_date": "2027-12-23"}, utc(2027, 12, 24, 9), utc(2028, 1, 5, 9)),
        # No meeting date: 20 WD after entering (Mon 13 Dec 2027 17:00), then 5 WD.
        ({}, utc(2028, 1, 13, 17), utc(2028, 1, 20, 17)),
    ],
)
def test_recommendation_across_christmas_2027(shared_board, submit, escalation, chair):
    """The sub-group's recommendation ladder skips the Christmas and New Year substitutes."""
    ref = at_sub_group(shared_board, utc(2027, 12, 13, 9), utc(2027, 12, 13, 17), **submit)
    armed = pending(shared_board, ref)
    assert armed["recommendation.escalation"].due_at == escalation
    assert armed["recommendation.chair"].due_at == chair


def test_chair_decision_across_christmas_2026(shared_board):
    """Entering chair_decision Mon 14 Dec 2026 15:00: reminded 15 WD later on Thu 7 Jan
    2027; due one calendar month after the referral of Mon 30 Nov (Wed 30 Dec)."""
    ref = shared_board.refer(EARLY_INCIDENT, at=utc(2026, 11, 30, 10))
    shared_board.walk(ref, State.CHAIR_DECISION, at=utc(2026, 12, 14, 8))
    armed = pending(shared_board, ref)
    assert armed["decision.reminder"].due_at == utc(2027, 1, 7, 15)
    assert armed["decision.due"].due_at == utc(2026, 12, 30, 10)


def test_panel_days_are_calendar_days(shared_board):
    """The national panel's 10 and 14 days are calendar days, as the statute counts them:
    a decision on Fri 18 Dec 2026 14:00 is reminded Mon 28 Dec and due Fri 1 Jan 2027."""
    ref = shared_board.refer(BELOW, at=utc(2026, 12, 14, 9))
    shared_board.walk(ref, State.CHAIR_DECISION, at=utc(2026, 12, 16, 8), scr=False)
    shared_board.fire(ref, "decide_no_review", at=utc(2026, 12, 18, 14), by=CHAIR,
                      reason="single-agency learning")
    armed = pending(shared_board, ref)
    assert armed["panel.reminder"].due_at == utc(2026, 12, 28, 14)
    assert armed["panel.due"].due_at == utc(2027, 1, 1, 14)
    assert armed["panel.due"].rule.startswith("14 days after the decision")


def test_completion_months_clamp_and_keep_london_time(shared_board):
    """Commissioned 10:00 BST on Mon 31 Aug 2026: reminded 31 Jan 2027, due 28 Feb (the
    month's last day), first overdue 31 Mar, each at 10:00 London time."""
    ref = shared_board.refer(EARLY_INCIDENT, at=utc(2026, 8, 28, 9))
    shared_board.walk(ref, State.REVIEW, at=utc(2026, 8, 31, 1))
    armed = pending(shared_board, ref)
    assert armed["completion.reminder"].due_at == utc(2027, 1, 31, 10)
    assert armed["completion.due"].due_at == utc(2027, 2, 28, 10)
    assert armed["completion.overdue"].due_at == utc(2027, 3, 31, 9)


def test_action_due_after_easter_2027(shared_board):
    """An action due Thu 1 Apr 2027 is reminded 5 WD before (Tue 23 Mar, Good Friday and
    Easter Monday skipped) and overdue 1 WD after (Fri 2 Apr), at 09:00 London."""
    ref = shared_board.refer(EARLY_INCIDENT, at=utc(2027, 1, 4, 9))
    at = shared_board.walk(ref, State.PUBLISHED, at=utc(2027, 1, 4, 10))
    shared_board.fire(ref, "add_action", at=at, by=SUBCHAIR, agency="health",
                      description="Training", owner=HEALTH, due="2027-04-01")
    armed = pending(shared_board, ref)
    assert armed["action.1.reminder"].due_at == utc(2027, 3, 23, 9)
    assert armed["action.1.overdue"].due_at == utc(2027, 4, 2, 8)


def test_publication_hold_timers(shared_board):
    """On hold from Tue 22 Dec 2026 16:00 with criminal proceedings pending: the proceedings
    check 20 WD later (Fri 22 Jan 2027), the long hold 12 months later, and a publication
    scheduled for Mon 1 Mar 2027 due at 09:00 London that day."""
    ref = shared_board.refer({**EARLY_INCIDENT, "criminal_proceedings": True},
                             at=utc(2026, 12, 21, 9))
    at = shared_board.walk(ref, State.PUBLICATION_HOLD, at=utc(2026, 12, 22, 7))
    assert at == utc(2026, 12, 22, 16)
    shared_board.fire(ref, "send_prepublication_notice", at=utc(2027, 1, 4, 10))
    shared_board.fire(ref, "schedule_publication", at=utc(2027, 1, 4, 11), date="2027-03-01")
    armed = pending(shared_board, ref)
    assert armed["proceedings_check.check"].due_at == utc(2027, 1, 22, 16)
    assert armed["long_hold.escalation"].due_at == utc(2027, 12, 22, 16)
    assert armed["publication.transition"].due_at == utc(2027, 3, 1, 9)
