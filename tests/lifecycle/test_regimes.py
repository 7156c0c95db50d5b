"""Regimes side by side: SCR version 1, SCR version 2 and the Child Safeguarding Practice
Review (cspr version 1) on one database, each case under the definition it started with.

The statutory clocks are checked as date tables across Christmas 2026 and Easter 2027,
worked out by hand from the bank holidays of England (Christmas Day Friday 25 December
2026, Boxing Day substitute Monday 28 December, New Year's Day Friday 1 January 2027, Good
Friday 26 March 2027, Easter Monday 29 March 2027; in 2027 Christmas and Boxing Day fall on
a weekend, so Monday 27 and Tuesday 28 December are the holidays)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from scr.lifecycle.core.engine import Engine
from scr.states.config import ProcessConfig
from scr.states.cspr import V1 as CSPR
from scr.states.enums import State
from scr.states.errors import InvalidInput, NotFound, Refused
from scr.states.registry import REGISTRY
from scr.states.scr import V2 as SCR2
from scr.states.working_days import WorkingDays
from tests.board import (
    BELOW_THRESHOLD,
    BM,
    CHAIR,
    CONSTABLE,
    CSC,
    HEALTH,
    ICB,
    LA,
    POLICE,
    QUORUM,
    REVIEWER,
    SCR_REFERRAL,
    SUBCHAIR,
    Board,
)
from tests.conftest import T0
from tests.lifecycle.sweeping import by_name, firings, sweep_at, timers

H = timedelta(hours=1)
DAYS = WorkingDays()
# A CSPR referral: a death where abuse is suspected, the authority aware on Monday 23
# November 2026 (T0's day).
CSPR_REFERRAL = {**SCR_REFERRAL, "pseudonym": "Child P", "aware_on": "2026-11-23",
                 "looked_after": False}


def board_for(db: Any, name: str, version: str | None = None) -> Board:
    """A board on `db` whose new cases start under `name` (its newest version unless
    `version`); its users are seeded once per database."""
    return Board(db, Engine(ProcessConfig(start=(name, version)), check_snapshots=True))


@pytest.fixture
def cspr(sqlite_db) -> Board:
    """A board whose new cases start under CSPR version 1 (frozen: its cases run on; version
    2's own suite is tests/lifecycle/test_cspr_v2.py)."""
    b = board_for(sqlite_db, "cspr", "1")
    b.seed_users()
    return b


@pytest.fixture
def scr2(sqlite_db) -> Board:
    b = board_for(sqlite_db, "scr", "2")
    b.seed_users()
    return b


def local_day(moment: datetime) -> date:
    return DAYS.local_date(moment)


def pending(board: Board, ref: str) -> dict[str, Any]:
    return by_name(timers(board, ref, "pending"))


# ------------------------------------------------------------------ the definitions' tables
def table(definition: Any) -> set[tuple[str, tuple[str, ...], str | None, tuple[str, ...]]]:
    return {(t.name, tuple(t.sources), t.dest, tuple(sorted({str(r.role) for r in t.roles})))
            for t in definition.triggers}


def test_the_cspr_lifecycle_table():
    """cspr version 1: the SCR states, the partners deciding in place of the chair, and the
    rapid review with the Panel."""
    pre = ("referral", "information_request", "sub_group", "chair_decision")
    assert table(CSPR) == {
        ("request_information", ("referral",), "information_request", ("business_manager",)),
        ("withdraw", ("referral", "information_request"), "closed", ("business_manager",)),
        ("record_notification", pre, None, ("business_manager",)),
        ("add_agency", ("information_request",), None, ("business_manager",)),
        ("record_return", ("information_request",), None, ("agency_lead", "business_manager")),
        ("submit_to_sub_group", ("information_request",), "sub_group",
         ("business_manager", "system")),
        ("record_meeting", ("sub_group",), None, ("business_manager", "subgroup_chair")),
        ("request_more_information", ("sub_group",), "information_request",
         ("subgroup_chair",)),
        ("recommend", ("sub_group",), "chair_decision", ("subgroup_chair",)),
        ("record_partner_view", ("chair_decision",), None,
         ("business_manager", "safeguarding_partner")),
        ("commission_practice_review", ("chair_decision",), "review",
         ("safeguarding_partner",)),
        ("decide_no_review", ("chair_decision",), "closed", ("safeguarding_partner",)),
        ("refer_back", ("chair_decision",), "sub_group", ("safeguarding_partner",)),
        ("send_rapid_review", ("review", "closed"), None,
         ("business_manager", "safeguarding_partner")),
        ("record_panel_response", ("review", "closed"), None, ("business_manager",)),
        ("record_milestone", ("review",), None, ("business_manager", "lead_reviewer")),
        ("complete_review", ("review",), "publication_hold",
         ("business_manager", "lead_reviewer")),
        ("record_proceedings", ("publication_hold",), None, ("business_manager",)),
        ("record_output", ("publication_hold",), None, ("business_manager",)),
        ("send_prepublication_notice", ("publication_hold",), None, ("business_manager",)),
        ("schedule_publication", ("publication_hold",), None, ("business_manager",)),
        ("publish", ("publication_hold",), "published", ("business_manager", "system")),
        ("add_action", ("published",), None, ("business_manager", "subgroup_chair")),
        ("complete_action", ("published",), None, ("agency_lead", "business_manager")),
        ("sign_off_action", ("published",), None, ("subgroup_chair",)),
        ("sign_off_actions", ("published",), "actions_signed_off",
         ("safeguarding_partner", "subgroup_chair")),
        ("amend_referral", pre, None, ("business_manager",)),
    }
    assert CSPR.state_label("chair_decision") == "Safeguarding partners' decision"
    assert CSPR.state_label("review") == "Local child safeguarding practice review"
    assert CSPR.trigger("publish").guards == (
        "no_proceedings_holding_publication", "notice_period_elapsed", "outputs_recorded")
    assert {t.ladder for t in CSPR.timers} == {
        "notification", "rapid_review", "triage", "returns", "returns_auto_submit",
        "recommendation", "panel_response", "publication_due", "proceedings_check",
        "long_hold", "publication", "action"}


def test_the_scr_version_2_lifecycle_table():
    """scr version 2 is version 1 with the notification, the decision not to publish, and
    the panel notices and inquests it lacked."""
    v1 = REGISTRY.get("scr", "1")
    added = table(SCR2) - table(v1)
    assert added == {
        ("record_notification", ("referral", "information_request", "sub_group",
                                 "chair_decision"), None, ("business_manager",)),
        ("decide_not_to_publish", ("publication_hold",), "published", ("chair",)),
        ("record_panel_notice", ("review", "closed", "published"), None,
         ("business_manager",)),
    }
    assert table(v1) - table(SCR2) == {
        ("record_panel_notice", ("review", "closed"), None, ("business_manager",))}
    assert [p.name for p in SCR2.create.params][:4] == [
        "pseudonym", "incident_date", "aware_on", "looked_after"]
    assert SCR2.trigger("record_proceedings").param("inquest") is not None
    assert {t.ladder for t in SCR2.timers} - {t.ladder for t in v1.timers} == {
        "notification", "panel_case_review", "panel_not_published"}
    assert not v1.due_on_working_days and SCR2.due_on_working_days and CSPR.due_on_working_days


# ----------------------------------------------------------------- the statutory clocks
def at_nine(day: date) -> datetime:
    return DAYS.start_of(day)


@pytest.mark.parametrize(("aware", "due"), [
    ("2026-12-21", date(2026, 12, 30)),  # Mon; 25, 28 Dec are bank holidays
    ("2026-12-24", date(2027, 1, 5)),  # Thu; 25, 28 Dec and 1 Jan
    ("2027-03-24", date(2027, 4, 2)),  # Wed; Good Friday 26 Mar and Easter Monday 29 Mar
    ("2026-11-23", date(2026, 11, 30)),  # an ordinary week
])
def test_the_notification_is_due_5_working_days_after_awareness(cspr, aware, due):
    moment = at_nine(date.fromisoformat(aware)) + H
    ref = cspr.refer({**CSPR_REFERRAL, "aware_on": aware}, at=moment)
    notification = pending(cspr, ref)["notification.due"]
    assert local_day(notification.due_at) == due


@pytest.mark.parametrize(("notified", "due"), [
    ("2026-12-18", date(2027, 1, 13)),  # Fri; across Christmas and New Year
    ("2027-03-19", date(2027, 4, 13)),  # Fri; across Easter
    ("2026-11-23", date(2026, 12, 14)),  # three ordinary weeks
])
def test_the_rapid_review_is_due_15_working_days_after_the_notification(cspr, notified,
                                                                        due):
    day = date.fromisoformat(notified)
    ref = cspr.refer({**CSPR_REFERRAL, "aware_on": notified}, at=at_nine(day) + H)
    cspr.fire(ref, "record_notification", at=at_nine(day) + 2 * H, date=notified)
    rapid = pending(cspr, ref)
    assert local_day(rapid["rapid_review.due"].due_at) == due
    assert "notification.due" not in rapid  # recorded: the notification ladder has ended


@pytest.mark.parametrize(("sent", "first_day"), [
    (datetime(2026, 12, 24, 15, 30, tzinfo=UTC), date(2027, 1, 7)),  # Christmas, New Year
    (datetime(2027, 3, 25, 11, 0, tzinfo=UTC), date(2027, 4, 7)),  # Easter
])
def test_the_final_report_goes_7_working_days_before_publication(cspr, sent, first_day):
    ref = cspr_published_ready(cspr, before=sent)
    cspr.fire(ref, "send_prepublication_notice", at=sent)
    day_before = (first_day - timedelta(days=1)).isoformat()
    with pytest.raises(Refused, match=first_day.isoformat()):
        cspr.fire(ref, "schedule_publication", at=sent + H, date=day_before)
    cspr.fire(ref, "schedule_publication", at=sent + H, date=first_day.isoformat())
    timed = pending(cspr, ref)["publication.transition"]
    assert local_day(timed.due_at) == first_day
    report = sweep_at(cspr, timed.due_at)
    assert ("publication.transition", "fired") in [(f.timer, f.outcome)
                                                   for f in report.firings]
    assert cspr.state(ref) == "published"


@pytest.mark.parametrize(("decided", "reminder", "due"), [
    # Due Sat 25 Dec 2027, then the holidays of Mon 27 and Tue 28 December.
    (datetime(2027, 6, 25, 10, 0, tzinfo=UTC), date(2027, 11, 25), date(2027, 12, 29)),
    # The reminder on Sun 28 Feb 2027 (no 29th), the due date on Easter Monday.
    (datetime(2026, 9, 29, 10, 0, tzinfo=UTC), date(2027, 3, 1), date(2027, 3, 30)),
    # The reminder on Sat 24 April; the due date a Monday as it is.
    (datetime(2026, 11, 24, 10, 0, tzinfo=UTC), date(2027, 4, 26), date(2027, 5, 24)),
])
def test_publication_is_due_6_months_after_the_decision_to_review(cspr, decided, reminder,
                                                                  due):
    ref = cspr_at_decision(cspr, at=decided - 10 * H)
    decide(cspr, ref, "local_review", at=decided)
    clock = pending(cspr, ref)
    assert local_day(clock["publication_due.reminder"].due_at) == reminder
    assert local_day(clock["publication_due.due"].due_at) == due


def test_version_1_clocks_do_not_roll_on_to_a_working_day(board):
    """SCR version 1 cases keep their own timers: the panel notice 14 days after a decision
    on Friday 11 December 2026 is due on Christmas Day, as version 1 always had it."""
    ref = board.refer(BELOW_THRESHOLD, at=T0)
    at = board.walk(ref, State.CHAIR_DECISION, at=T0, scr=False)
    board.fire(ref, "decide_no_review", by=CHAIR, reason="no criteria",
               at=datetime(2026, 12, 11, 10, 0, tzinfo=UTC))
    assert at < datetime(2026, 12, 11, tzinfo=UTC)
    assert local_day(pending(board, ref)["panel.due"].due_at) == date(2026, 12, 25)


# ----------------------------------------------------------------- CSPR from start to end
def decide(board: Board, ref: str, decision: str, *, at: datetime,
           by: tuple[str, ...] = (LA, ICB)) -> None:
    """Two partners record their view; the third (the police) fires the decision."""
    for n, partner_user in enumerate(by):
        partner = {LA: "local_authority", ICB: "integrated_care_board",
                   CONSTABLE: "police"}[partner_user]
        board.fire(ref, "record_partner_view", by=partner_user, at=at - (len(by) - n) * H,
                   partner=partner, decision=decision)
    if decision == "local_review":
        board.fire(ref, "commission_practice_review", by=CONSTABLE, at=at,
                   reason="improvements in multi-agency working are likely",
                   methodology="scie_systems", lead_reviewer=REVIEWER)
    else:
        board.fire(ref, "decide_no_review", by=CONSTABLE, at=at,
                   reason="the learning is single-agency and in hand")


def cspr_at_decision(board: Board, *, at: datetime, **referral: Any) -> str:
    """A CSPR case notified and through its rapid review meeting, awaiting the partners
    (its referral CSPR_REFERRAL with `referral`)."""
    aware = local_day(at).isoformat()
    ref = board.refer({**CSPR_REFERRAL, "incident_date": aware, "aware_on": aware,
                       **referral}, at=at)
    board.fire(ref, "record_notification", at=at + H, date=aware)
    board.fire(ref, "request_information", at=at + 2 * H,
               agencies="childrens_social_care,health,police")
    for agency, lead in (("childrens_social_care", CSC), ("health", HEALTH),
                         ("police", POLICE)):
        board.fire(ref, "record_return", by=lead, at=at + 3 * H, agency=agency,
                   view="local_review", summary="seen")
    board.fire(ref, "submit_to_sub_group", at=at + 4 * H)
    board.fire(ref, "record_meeting", at=at + 5 * H, date=aware, attendees=QUORUM)
    board.fire(ref, "recommend", by=SUBCHAIR, at=at + 6 * H, recommendation="local_review",
               reason="agencies did not share what they knew")
    return ref


def cspr_published_ready(board: Board, *, before: datetime) -> str:
    """A CSPR case on publication hold with its report recorded, a little before `before`."""
    start = before - timedelta(days=3)
    ref = cspr_at_decision(board, at=start)
    decide(board, ref, "local_review", at=start + 10 * H)
    board.fire(ref, "complete_review", by=REVIEWER, at=start + 11 * H, report="Final report")
    board.fire(ref, "record_output", at=start + 12 * H, output="overview_report",
               location="https://partnership.example/cspr")
    return ref


def test_a_cspr_runs_from_notification_to_actions_signed_off(cspr):
    """Every statutory clock of a CSPR, in order, on one case."""
    ref = cspr.refer(CSPR_REFERRAL, at=T0)
    case = cspr.case(ref)
    assert (case.definition, case.definition_version) == ("cspr", "1")
    clock = pending(cspr, ref)
    # Aware Monday 23 November: notify by Monday 30 November; reminded on the 26th.
    assert local_day(clock["notification.reminder"].due_at) == date(2026, 11, 26)
    assert local_day(clock["notification.due"].due_at) == date(2026, 11, 30)
    assert "rapid_review.due" not in clock  # its clock starts at the notification
    # The reminder goes out; the case moves on to the rapid review before it is notified:
    # the notification's clock follows it, and the reminder is not said twice.
    report = sweep_at(cspr, clock["notification.reminder"].due_at)
    assert [f.timer for f in report.of("fired")] == ["notification.reminder"]
    cspr.fire(ref, "request_information", at=T0 + 80 * H,
              agencies="childrens_social_care,health,police")
    moved = pending(cspr, ref)
    assert "notification.reminder" not in moved
    assert moved["notification.due"].state == "information_request"
    assert moved["notification.due"].due_at == clock["notification.due"].due_at
    # The business manager records the notification on Friday 27 November.
    cspr.fire(ref, "record_notification", at=T0 + 98 * H, date="2026-11-27")
    clock = pending(cspr, ref)
    assert "notification.due" not in clock
    assert local_day(clock["rapid_review.due"].due_at) == date(2026, 12, 18)  # 15 WD
    assert local_day(clock["rapid_review.reminder"].due_at) == date(2026, 12, 11)
    for agency, lead in (("childrens_social_care", CSC), ("health", HEALTH),
                         ("police", POLICE)):
        cspr.fire(ref, "record_return", by=lead, at=T0 + 100 * H, agency=agency,
                  view="local_review", summary="seen")
    cspr.fire(ref, "submit_to_sub_group", at=T0 + 101 * H, meeting_date="2026-12-03")
    cspr.fire(ref, "record_meeting", at=T0 + 250 * H, date="2026-12-03", attendees=QUORUM)
    cspr.fire(ref, "recommend", by=SUBCHAIR, at=T0 + 251 * H, recommendation="local_review",
              reason="agencies did not share what they knew")
    assert pending(cspr, ref)["rapid_review.due"].state == "chair_decision"
    # The partners decide together: two views and the third partner's decision.
    decided_at = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
    decide(cspr, ref, "local_review", at=decided_at)
    case = cspr.case(ref)
    assert (case.state, case.kind) == ("review", "cspr")
    [commission] = firings(cspr, ref, "commission_practice_review")
    assert {"la@board.test", "icb@board.test", "constable@board.test",
            "scrutineer@board.test"} <= commission.recipients
    assert "chair@board.test" not in commission.recipients
    clock = pending(cspr, ref)
    assert "rapid_review.due" not in clock
    assert local_day(clock["publication_due.due"].due_at) == date(2027, 6, 10)
    # The rapid review goes to the Panel; no response after 15 working days reminds.
    cspr.fire(ref, "send_rapid_review", at=decided_at + H, date="2026-12-10")
    reminder = pending(cspr, ref)["panel_response.reminder"]
    assert local_day(reminder.due_at) == date(2027, 1, 5)  # across Christmas and New Year
    report = sweep_at(cspr, reminder.due_at)
    assert "panel_response.reminder" in [f.timer for f in report.of("fired")]
    cspr.fire(ref, "record_panel_response", at=reminder.due_at + H, response="local_review",
              date="2027-01-05")
    assert cspr.case(ref).facts["panel_response"] == "local_review"
    # The review is completed; an inquest defers publication and pauses its clock.
    cspr.fire(ref, "complete_review", by=REVIEWER, at=datetime(2027, 4, 1, 10, tzinfo=UTC),
              report="Child P: final report")
    assert "publication_due.due" in pending(cspr, ref)  # the clock runs across states
    cspr.fire(ref, "record_proceedings", at=datetime(2027, 4, 1, 11, tzinfo=UTC),
              inquest="pending")
    assert "publication_due.due" not in pending(cspr, ref)
    cspr.fire(ref, "record_output", at=datetime(2027, 4, 1, 12, tzinfo=UTC),
              output="overview_report", location="https://partnership.example/child-p")
    sent = datetime(2027, 4, 6, 10, tzinfo=UTC)
    cspr.fire(ref, "send_prepublication_notice", at=sent)
    with pytest.raises(Refused, match="an inquest is pending"):
        cspr.fire(ref, "publish", at=sent + timedelta(days=14))
    cspr.fire(ref, "record_proceedings", at=sent + timedelta(days=14), inquest="concluded")
    assert "publication_due.due" in pending(cspr, ref)  # the clock is back
    cspr.fire(ref, "publish", at=sent + timedelta(days=14, hours=1))
    assert cspr.state(ref) == "published"
    cspr.fire(ref, "add_action", by=SUBCHAIR, at=sent + timedelta(days=15), agency="health",
              description="Share records at strategy meetings", owner=HEALTH,
              due="2027-09-01")
    cspr.fire(ref, "complete_action", by=HEALTH, at=sent + timedelta(days=60), action="1",
              evidence="audit of strategy meetings")
    cspr.fire(ref, "sign_off_action", by=SUBCHAIR, at=sent + timedelta(days=61), action="1")
    cspr.fire(ref, "sign_off_actions", by=LA, at=sent + timedelta(days=62))
    assert cspr.state(ref) == "actions_signed_off"
    assert pending(cspr, ref) == {}


def test_the_partners_decide_together_and_give_reasons_either_way(cspr):
    ref = cspr_at_decision(cspr, at=T0)
    at = T0 + 20 * H
    # Alone, a partner may not decide: the other two have recorded nothing.
    with pytest.raises(Refused, match="integrated_care_board, police"):
        cspr.fire(ref, "decide_no_review", by=LA, at=at, reason="no learning")
    # A partner records only their own view; the business manager may record any.
    with pytest.raises(Refused, match="may not fire record_partner_view"):
        cspr.fire(ref, "record_partner_view", by=LA, at=at, partner="police",
                  decision="no_review")
    cspr.fire(ref, "record_partner_view", by=BM, at=at, partner="police", decision="no_review")
    cspr.fire(ref, "record_partner_view", by=ICB, at=at, partner="integrated_care_board",
              decision="local_review")
    # Views that differ are not agreement.
    with pytest.raises(Refused, match="integrated_care_board"):
        cspr.fire(ref, "decide_no_review", by=LA, at=at + H, reason="no learning")
    cspr.fire(ref, "record_partner_view", by=ICB, at=at + H, partner="integrated_care_board",
              decision="no_review")
    # No "must" either way, but a reason always.
    with pytest.raises(Refused, match="a reason must be given"):
        cspr.fire(ref, "decide_no_review", by=LA, at=at + 2 * H)
    # The chair of the old regime has no part in it.
    with pytest.raises(Refused, match="may not fire decide_no_review"):
        cspr.fire(ref, "decide_no_review", by=CHAIR, at=at + 2 * H, reason="x")
    cspr.fire(ref, "decide_no_review", by=LA, at=at + 2 * H, reason="no learning")
    assert cspr.state(ref) == "closed"
    # Closed, the rapid review still goes to the Panel and its response is awaited.
    cspr.fire(ref, "send_rapid_review", at=at + 3 * H, date=local_day(at).isoformat())
    assert "panel_response.reminder" in pending(cspr, ref)


def test_a_lead_partner_decides_with_the_others_agreement_recorded(sqlite_db):
    config = ProcessConfig(start=("cspr", None), lead_partner="local_authority")
    lead = Board(sqlite_db, Engine(config, check_snapshots=True))
    lead.seed_users()
    ref = cspr_at_decision(lead, at=T0)
    at = T0 + 20 * H
    for user, partner in ((ICB, "integrated_care_board"), (CONSTABLE, "police")):
        lead.fire(ref, "record_partner_view", by=user, at=at, partner=partner,
                  decision="local_review")
    with pytest.raises(Refused, match=r"the lead partner \(local_authority\)"):
        lead.fire(ref, "commission_practice_review", by=CONSTABLE, at=at + H, reason="r",
                  methodology="scie_systems", lead_reviewer=REVIEWER)
    lead.fire(ref, "commission_practice_review", by=LA, at=at + H, reason="r",
              methodology="scie_systems", lead_reviewer=REVIEWER)
    assert lead.state(ref) == "review"


def test_the_assessment_is_a_judgement_with_reasons_not_a_rule(cspr):
    """CSPR considerations never compel: a case whose facts point towards a review may be
    decided either way, with reasons."""
    verdict = CSPR.criteria(cspr_referral_facts(agency_concern=True))
    assert verdict.binding is False and verdict.met is True
    assert verdict.reasons[0] == "CSPR considerations point towards a local review"
    assert any("two or more organisations" in r for r in verdict.reasons)
    assert "judgement" in verdict.reasons[-1]
    no = CSPR.criteria(cspr_referral_facts(abuse="not_suspected"))
    assert no.met is False and "not a serious incident" in no.reasons[1]


def cspr_referral_facts(**changes: Any) -> Any:
    from scr.states.case import ReferralFacts

    base = {"incident_date": date(2026, 11, 2), "harm": "death", "abuse": "suspected",
            "aware_on": date(2026, 11, 23)}
    return ReferralFacts(**{**base, **changes})


# ------------------------------------------------------------------------ SCR version 2
def test_scr_v2_notification_reminds_escalates_and_stops_when_recorded(scr2):
    ref = scr2.refer({**CSPR_REFERRAL, "pseudonym": "Child Q"}, at=T0)
    clock = pending(scr2, ref)
    due = clock["notification.due"]
    assert local_day(due.due_at) == date(2026, 11, 30)
    report = sweep_at(scr2, due.due_at)
    assert "notification.due" in [f.timer for f in report.of("fired")]
    escalation = next(f for f in firings(scr2, ref) if f.row.params["timer"] == "notification")
    assert "chair@board.test" in escalation.recipients
    # It repeats until recorded (every 5 working days).
    again = pending(scr2, ref)["notification.due"]
    assert local_day(again.due_at) == date(2026, 12, 7)
    scr2.fire(ref, "record_notification", at=due.due_at + H, date="2026-11-30")
    assert "notification.due" not in pending(scr2, ref)
    with pytest.raises(Refused, match="recorded already"):
        scr2.fire(ref, "record_notification", at=due.due_at + 2 * H, date="2026-11-30")


def test_scr_v2_decision_clock_runs_from_the_notification(scr2):
    """The chair's decision is due a month from the notification, not from the referral."""
    ref = scr2.refer({**CSPR_REFERRAL, "pseudonym": "Child Q", "aware_on": "2026-11-16"},
                     at=T0)
    at = scr2.walk(ref, State.CHAIR_DECISION, at=T0)
    # Not notified yet: from awareness (Mon 16 Nov + 1 month = Wed 16 Dec).
    assert local_day(pending(scr2, ref)["decision.due"].due_at) == date(2026, 12, 16)
    scr2.fire(ref, "record_notification", at=at + H, date="2026-11-20")
    # Notified Fri 20 Nov: due Sun 20 Dec, on to Monday 21 December.
    assert local_day(pending(scr2, ref)["decision.due"].due_at) == date(2026, 12, 21)


def test_scr_v2_a_case_review_instead_of_an_scr_arms_the_panel_notice(scr2):
    ref = scr2.refer({**CSPR_REFERRAL, "pseudonym": "Child Q", "harm": "serious_harm",
                      "agency_concern": False}, at=T0)
    at = scr2.walk(ref, State.REVIEW, at=T0, scr=False)
    clock = pending(scr2, ref)
    assert local_day(clock["panel_case_review.due"].due_at) == \
        DAYS.next_working_day(local_day(at) + timedelta(days=14))
    scr2.fire(ref, "record_panel_notice", at=at + H, date=local_day(at).isoformat())
    assert "panel_case_review.due" not in pending(scr2, ref)


def test_scr_v2_a_decision_not_to_publish_ends_in_published_with_a_panel_notice(scr2):
    ref = scr2.refer({**CSPR_REFERRAL, "pseudonym": "Child Q"}, at=T0)
    at = scr2.walk(ref, State.PUBLICATION_HOLD, at=T0)
    with pytest.raises(Refused, match="may not fire decide_not_to_publish"):
        scr2.fire(ref, "decide_not_to_publish", at=at + H, reason="siblings identifiable")
    with pytest.raises(Refused, match="a reason must be given"):
        scr2.fire(ref, "decide_not_to_publish", by=CHAIR, at=at + H)
    case = scr2.fire(ref, "decide_not_to_publish", by=CHAIR, at=at + H,
                     reason="the siblings would be identified")
    assert (case.state, case.published_at) == ("published", None)
    assert "not_published" in case.flags
    assert "panel_not_published.due" in pending(scr2, ref)
    scr2.fire(ref, "record_panel_notice", at=at + 2 * H, date=local_day(at).isoformat())
    assert "panel_not_published.due" not in pending(scr2, ref)
    scr2.fire(ref, "add_action", by=SUBCHAIR, at=at + 3 * H, agency="health",
              description="d", owner=HEALTH, due="2027-06-01")
    assert "action.1.reminder" in pending(scr2, ref)


def test_scr_v2_inquests_hold_publication_and_care_proceedings_do_not(scr2):
    ref = scr2.refer({**CSPR_REFERRAL, "pseudonym": "Child Q"}, at=T0)
    at = scr2.walk(ref, State.PUBLICATION_HOLD, at=T0)
    for output in ("overview_report", "board_response"):
        scr2.fire(ref, "record_output", at=at + H, output=output, location="https://x.test")
    scr2.fire(ref, "send_prepublication_notice", at=at + H)
    later = at + timedelta(days=21)
    scr2.fire(ref, "record_proceedings", at=later, inquest="pending", care="pending")
    with pytest.raises(Refused, match="an inquest is pending"):
        scr2.fire(ref, "publish", at=later + H)
    scr2.fire(ref, "record_proceedings", at=later + 2 * H, inquest="concluded")
    case = scr2.fire(ref, "publish", at=later + 3 * H)
    assert case.state == "published"  # care proceedings still pending do not hold it


def test_scr_v2_a_looked_after_childs_death_is_notified_whatever_the_criteria(scr2):
    """No abuse suspected: not an SCR, but a looked-after child's death is notified."""
    facts = {**CSPR_REFERRAL, "pseudonym": "Child Q", "abuse": "not_suspected"}
    plain = scr2.refer(facts, at=T0)
    assert "notification.due" not in pending(scr2, plain)
    looked_after = scr2.refer({**facts, "looked_after": True}, at=T0)
    assert "notification.due" in pending(scr2, looked_after)
    verdict = SCR2.criteria(cspr_referral_facts(abuse="not_suspected", looked_after=True))
    assert verdict.met is False
    assert any("Secretary of State and Ofsted" in r for r in verdict.reasons)


def test_scr_v2_referrals_must_say_when_the_authority_became_aware(scr2):
    with pytest.raises(InvalidInput, match="aware_on"):
        scr2.refer({k: v for k, v in CSPR_REFERRAL.items() if k != "aware_on"}, at=T0)
    with pytest.raises(InvalidInput, match="looked_after"):
        scr2.refer({k: v for k, v in CSPR_REFERRAL.items() if k != "looked_after"}, at=T0)


# ------------------------------------------------------------------ regimes side by side
def test_an_scr_begun_before_the_switch_finishes_under_version_1_beside_a_cspr(sqlite_db):
    """A board ran SCRs (version 1); it switches to CSPR. The old case keeps version 1's
    rules and timers to the end, while a new case runs as a CSPR, on one database."""
    before = board_for(sqlite_db, "scr", "1")
    before.seed_users()
    old = before.refer(at=T0)
    after = board_for(sqlite_db, "cspr")  # the board's config now says cspr
    new = after.refer(CSPR_REFERRAL, at=T0 + H)
    assert (after.case(old).definition_version, after.case(new).definition) == ("1", "cspr")
    # Version 1 has no notification and counts the decision from the referral.
    at = after.walk(old, State.CHAIR_DECISION, at=T0 + 2 * H)
    clock = pending(after, old)
    assert not any(name.startswith("notification") for name in clock)
    assert local_day(clock["decision.due"].due_at) == date(2026, 12, 23)  # T0 + 1 month
    with pytest.raises(NotFound, match="unknown trigger 'record_notification'"):
        after.fire(old, "record_notification", at=at + H, date="2026-11-23")
    # The chair decides under version 1, and the case goes on to its end.
    after.fire(old, "commission_scr", by=CHAIR, at=at + H, methodology="scie_systems",
               lead_reviewer=REVIEWER)
    assert "completion.due" in pending(after, old)
    # Meanwhile the CSPR has its own clocks.
    assert "notification.due" in pending(after, new)
    with pytest.raises(NotFound, match="unknown trigger 'commission_scr'"):
        after.fire(new, "commission_scr", by=CHAIR, at=at + H, methodology="scie_systems",
                   lead_reviewer=REVIEWER)
    assert (after.case(old).state, after.case(new).state) == ("review", "referral")
    # The old case goes on to its end under version 1: publication needs the SCR's outputs
    # and waits for no inquest (version 1 has none to record).
    t = at + 2 * H
    after.fire(old, "complete_review", by=REVIEWER, at=t, report="Overview report")
    for output in ("overview_report", "board_response"):
        after.fire(old, "record_output", at=t + H, output=output, location="https://x.test")
    after.fire(old, "send_prepublication_notice", at=t + H)
    with pytest.raises(InvalidInput, match="unknown parameter 'inquest'"):
        after.fire(old, "record_proceedings", at=t + 2 * H, inquest="pending")
    after.fire(old, "publish", at=t + timedelta(days=14))
    after.fire(old, "add_action", by=SUBCHAIR, at=t + timedelta(days=15), agency="health",
               description="d", owner=HEALTH, due="2027-06-01")
    after.fire(old, "complete_action", by=HEALTH, at=t + timedelta(days=16), action="1",
               evidence="done")
    after.fire(old, "sign_off_action", by=SUBCHAIR, at=t + timedelta(days=17), action="1")
    after.fire(old, "sign_off_actions", by=CHAIR, at=t + timedelta(days=18))
    finished = after.case(old)
    assert (finished.state, finished.definition, finished.definition_version) == (
        "actions_signed_off", "scr", "1")


def test_a_clock_across_states_is_sent_to_calendars_once(cspr):
    """The rapid review's deadline is armed again in each state it spans, at the same
    moment: each partner's calendar gets it once, not at every step."""
    from tests import records

    ref = cspr_at_decision(cspr, at=T0)
    invites = [m for m in records.mail(cspr.db, ref) if m.template == "calendar_update"
               and "Rapid review due" in m.subject]
    assert sorted(m.recipient for m in invites) == sorted(
        ["bm@board.test", "la@board.test", "icb@board.test", "constable@board.test"])
    assert pending(cspr, ref)["rapid_review.due"].state == "chair_decision"
