"""CSPR version 2 (states/cspr/v2.py): the rules version 1 had wrong, as refusals with their
reasons, and the clocks it adds, as date tables across Christmas 2026 and Easter 2027
(worked out by hand from England's bank holidays: Friday 25 and Monday 28 December 2026,
Friday 1 January 2027, Good Friday 26 March and Easter Monday 29 March 2027; in 2027 Monday
27 and Tuesday 28 December)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from scr.lifecycle.core.engine import Engine
from scr.states.case import ReferralFacts
from scr.states.config import ProcessConfig
from scr.states.cspr import V2
from scr.states.enums import State
from scr.states.errors import Refused
from scr.states.facts import CARE_LEAVER
from scr.states.registry import REGISTRY
from scr.states.working_days import WorkingDays
from tests import records
from tests.board import (
    CONSTABLE,
    ICB,
    LA,
    LEAD_POLICE,
    PARTNERSHIP_CHAIR,
    REVIEWER,
    SCRUTINEER,
    USERS,
    Board,
)
from tests.conftest import T0
from tests.lifecycle.sweeping import by_name, firings, history, sweep_at, timers
from tests.lifecycle.test_regimes import (
    CSPR_REFERRAL,
    cspr_at_decision,
    cspr_published_ready,
    decide,
)

H = timedelta(hours=1)
DAYS = WorkingDays()
MAIL = {name: email for name, email, _, _ in USERS}
PARTNERS_MAIL = {MAIL[LA], MAIL[ICB], MAIL[CONSTABLE]}
# The death of a looked-after child where abuse or neglect is not suspected.
LOOKED_AFTER_DEATH = {**CSPR_REFERRAL, "pseudonym": "Child L", "abuse": "not_suspected",
                      "looked_after": True}
CARE_LEAVER_DEATH = {**CSPR_REFERRAL, "pseudonym": "Young person C",
                     "abuse": "not_suspected", "care_leaver": True}


@pytest.fixture
def cspr2(sqlite_db) -> Board:
    b = Board(sqlite_db, Engine(ProcessConfig(start=("cspr", "2")), check_snapshots=True))
    b.seed_users()
    return b


def pending(board: Board, ref: str) -> dict[str, Any]:
    return by_name(timers(board, ref, "pending"))


def local_day(moment: datetime) -> date:
    return DAYS.local_date(moment)


def at_nine(day: date) -> datetime:
    return DAYS.start_of(day)


def facts(board: Board, ref: str) -> dict[str, Any]:
    return board.case(ref).facts or {}


# ------------------------------------------------------------------- the definition
def test_new_cases_start_under_version_2_and_version_1_s_run_on():
    assert REGISTRY.newest("cspr") is V2
    assert not REGISTRY.is_draft(V2)
    assert REGISTRY.resolve("cspr", "1").version == "1"


def test_a_draft_version_is_started_only_where_a_board_names_it():
    """A version still being written is registered as a draft: never the newest."""
    from scr.states.cspr import V1
    from scr.states.registry import Registry

    drafting = Registry(V1, V2, drafts=(V2.key,))
    assert drafting.is_draft(V2) and drafting.newest("cspr") is V1
    assert drafting.resolve("cspr", "2") is V2


def test_the_automatic_submission_s_help_says_the_delay_its_timer_uses():
    """Version 1 said "deadline + 5 working days" where its timer used 2."""
    spec = V2.trigger("submit_to_sub_group")
    assert spec is not None and "2 working days after the returns deadline" in spec.help
    assert V2.default_offsets["returns_auto_submit.transition"] == "2wd"


# ----------------------------------------------------- no rapid review without notification
@pytest.mark.parametrize("trigger", ["request_information"])
def test_a_rapid_review_cannot_begin_before_the_notification(cspr2, trigger):
    ref = cspr2.refer(CSPR_REFERRAL, at=T0)
    with pytest.raises(Refused, match="without the prior serious incident notification"):
        cspr2.fire(ref, trigger, at=T0 + H, agencies="health")
    assert cspr2.state(ref) == State.REFERRAL
    cspr2.fire(ref, "record_notification", at=T0 + 2 * H, date="2026-11-23")
    cspr2.fire(ref, trigger, at=T0 + 3 * H, agencies="health")
    assert cspr2.state(ref) == State.INFORMATION_REQUEST


def test_every_step_of_the_rapid_review_and_the_decision_asks_for_the_notification():
    """The Panel: "A rapid review cannot be undertaken without the prior submission of a
    Serious Incident Notification"; version 1 let every one of these run without one."""
    guarded = {t.name for t in V2.all_triggers if "rapid_review_may_begin" in t.guards}
    assert guarded == {"request_information", "submit_to_sub_group", "record_meeting",
                       "recommend", "record_partner_view", "commission_practice_review",
                       "decide_no_review"}


# ------------------------------------------------- a looked-after child's or care leaver's death
def test_a_looked_after_child_s_death_is_notified_but_has_no_rapid_review(cspr2):
    """Notified to the Secretary of State and Ofsted whatever its cause, but without known
    or suspected abuse or neglect not a serious child safeguarding case: version 1 armed
    the rapid review for it and let its assessment point towards a local review."""
    ref = cspr2.refer({**LOOKED_AFTER_DEATH, "agency_concern": True}, at=T0)
    clock = pending(cspr2, ref)
    # A notification of its own, to the Secretary of State and Ofsted: not the serious
    # incident notification to the Panel.
    assert local_day(clock["death_notification.due"].due_at) == date(2026, 11, 30)
    assert "notification.due" not in clock
    cspr2.fire(ref, "record_notification", at=T0 + H, date="2026-11-23")
    assert not [n for n in pending(cspr2, ref) if n.startswith("rapid_review")]
    with pytest.raises(Refused, match=r"looked-after child .* not a serious child "
                                      r"safeguarding case"):
        cspr2.fire(ref, "request_information", at=T0 + 2 * H, agencies="health")
    assert cspr2.state(ref) == State.REFERRAL
    found = V2.assess(ReferralFacts(
        incident_date=date(2026, 11, 2), harm="death", abuse="not_suspected",
        agency_concern=True, grounds=(), route="child_death_review", referrer_agency=None,
        criminal_proceedings=False, aware_on=date(2026, 11, 23), looked_after=True))
    assert not found.met  # version 1's assessment pointed towards a local review
    assert "Secretary of State and Ofsted" in found.reasons[1]
    assert "not a serious child safeguarding case" in found.reasons[1]
    # Closed without a rapid review: no Panel to tell, as no serious incident was notified.
    cspr2.fire(ref, "withdraw", at=T0 + 3 * H, reason="notified; no abuse or neglect")
    assert cspr2.state(ref) == State.CLOSED


def test_a_care_leaver_s_death_is_notified_and_has_a_rapid_review_only_with_abuse(cspr2):
    ref = cspr2.refer(CARE_LEAVER_DEATH, at=T0)
    assert facts(cspr2, ref)[CARE_LEAVER.name] is True
    assert "death_notification.due" in pending(cspr2, ref)
    cspr2.fire(ref, "record_notification", at=T0 + H, date="2026-11-23")
    with pytest.raises(Refused, match="care leaver"):
        cspr2.fire(ref, "request_information", at=T0 + 2 * H, agencies="health")
    # With abuse or neglect suspected, a serious incident like any other.
    other = cspr2.refer({**CARE_LEAVER_DEATH, "abuse": "suspected"}, at=T0)
    assert "notification.due" in pending(cspr2, other)  # the serious incident's
    assert "death_notification.due" not in pending(cspr2, other)
    cspr2.fire(other, "record_notification", at=T0 + H, date="2026-11-23")
    assert "rapid_review.due" in pending(cspr2, other)
    cspr2.fire(other, "request_information", at=T0 + 2 * H, agencies="health")


def test_a_care_leaver_s_death_alone_is_not_notifiable_in_version_1_terms(cspr2):
    """Without the care leaver's flag, the same referral (no abuse, not looked after) is
    notified to nobody: the flag is what arms the notification."""
    ref = cspr2.refer({**CARE_LEAVER_DEATH, "care_leaver": False}, at=T0)
    assert not [n for n in pending(cspr2, ref) if "notification" in n]


# ----------------------------------------------------------- withdrawing a notified incident
def test_withdrawing_a_notified_incident_needs_the_day_the_panel_was_told(cspr2):
    ref = cspr2.refer(CSPR_REFERRAL, at=T0)
    cspr2.fire(ref, "record_notification", at=T0 + H, date="2026-11-23")
    with pytest.raises(Refused, match="panel_told_on"):
        cspr2.fire(ref, "withdraw", at=T0 + 2 * H, reason="no abuse after all")
    assert cspr2.state(ref) == State.REFERRAL
    cspr2.fire(ref, "withdraw", at=T0 + 3 * H, reason="no abuse after all",
               panel_told_on="2026-11-23")
    assert cspr2.state(ref) == State.CLOSED
    assert facts(cspr2, ref)["withdrawal_told_on"] == "2026-11-23"
    [withdrawn] = firings(cspr2, ref, "withdraw")
    assert PARTNERS_MAIL | {MAIL[SCRUTINEER]} <= withdrawn.recipients
    # Withdrawn: the rapid review is not chased.
    assert not [n for n in pending(cspr2, ref) if n.startswith("rapid_review")]


# ------------------------------------------------------ the rapid review's clock runs to the Panel
@pytest.mark.parametrize(("notified", "due", "again"), [
    ("2026-12-18", date(2027, 1, 13), date(2027, 1, 20)),  # Fri; Christmas and New Year
    ("2027-03-19", date(2027, 4, 13), date(2027, 4, 20)),  # Fri; across Easter
    ("2026-11-23", date(2026, 12, 14), date(2026, 12, 21)),  # three ordinary weeks
])
def test_the_rapid_review_is_due_15_working_days_after_the_notification_then_every_5(
        cspr2, notified, due, again):
    day = date.fromisoformat(notified)
    ref = cspr2.refer({**CSPR_REFERRAL, "aware_on": notified}, at=at_nine(day) + H)
    cspr2.fire(ref, "record_notification", at=at_nine(day) + 2 * H, date=notified)
    rapid = pending(cspr2, ref)["rapid_review.due"]
    assert local_day(rapid.due_at) == due
    sweep_at(cspr2, rapid.due_at)
    assert local_day(pending(cspr2, ref)["rapid_review.due"].due_at) == again


def test_the_rapid_review_s_clock_runs_past_the_decision_until_it_is_sent(cspr2):
    """Version 1's clock stopped at the partners' decision, and nothing chased the rapid
    review to the Panel."""
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = cspr_at_decision(cspr2, at=start)
    decide(cspr2, ref, "local_review", at=start + 10 * H)
    assert cspr2.state(ref) == State.REVIEW
    rapid = pending(cspr2, ref)["rapid_review.due"]
    assert rapid.state == State.REVIEW
    assert local_day(rapid.due_at) == date(2026, 12, 14)
    cspr2.fire(ref, "send_rapid_review", at=start + 11 * H, date="2026-11-23")
    assert not [n for n in pending(cspr2, ref) if n.startswith("rapid_review")]


def test_after_a_decision_against_a_review_the_rapid_review_is_still_chased(cspr2):
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = cspr_at_decision(cspr2, at=start)
    decide(cspr2, ref, "no_review", at=start + 10 * H)
    assert cspr2.state(ref) == State.CLOSED
    assert pending(cspr2, ref)["rapid_review.due"].state == State.CLOSED


# --------------------------------------------------------------------- the Panel's answer
def test_the_panel_asking_for_a_local_review_takes_the_case_back_to_the_partners(cspr2):
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = cspr_at_decision(cspr2, at=start)
    decide(cspr2, ref, "no_review", at=start + 10 * H)
    cspr2.fire(ref, "send_rapid_review", at=start + 11 * H, date="2026-11-23")
    with pytest.raises(Refused, match="response=local_review"):
        cspr2.fire(ref, "reopen_for_local_review", at=start + 12 * H,
                   reason="the Panel disagreed")
    cspr2.fire(ref, "record_panel_response", at=start + 13 * H, response="local_review",
               date="2026-11-23")
    with pytest.raises(Refused, match="a reason must be given"):
        cspr2.fire(ref, "reopen_for_local_review", at=start + 14 * H)
    case = cspr2.fire(ref, "reopen_for_local_review", at=start + 15 * H,
                      reason="the Panel sees learning about information sharing")
    assert (case.state, case.closed_at, case.decided_at) == (State.CHAIR_DECISION, None, None)
    decide(cspr2, ref, "local_review", at=start + 20 * H)
    assert (cspr2.state(ref), cspr2.case(ref).kind) == (State.REVIEW, "cspr")
    trail = [h.trigger for h in history(cspr2, ref)]
    assert trail.index("decide_no_review") < trail.index("reopen_for_local_review") \
        < trail.index("commission_practice_review")


def test_a_national_review_stops_the_local_clock_and_the_support_is_recorded(cspr2):
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = cspr_at_decision(cspr2, at=start)
    decide(cspr2, ref, "local_review", at=start + 10 * H)
    clock = pending(cspr2, ref)
    assert {"review_due.due", "progress_check.check"} <= set(clock)
    with pytest.raises(Refused, match="response=national_review"):
        cspr2.fire(ref, "record_national_review_support", at=start + 11 * H,
                   date="2026-11-23")
    cspr2.fire(ref, "send_rapid_review", at=start + 12 * H, date="2026-11-23")
    cspr2.fire(ref, "record_panel_response", at=start + 13 * H, response="national_review",
               date="2026-11-23")
    left = pending(cspr2, ref)
    assert not [n for n in left if n.startswith(("review_due", "progress_check"))]
    cspr2.fire(ref, "record_national_review_support", at=start + 14 * H, date="2026-11-23")
    assert facts(cspr2, ref)["national_review_support_on"] == "2026-11-23"


# ----------------------------------------------------- the review's own deadline and progress
@pytest.mark.parametrize(("decided", "reminder", "due", "check"), [
    # Due Sat 25 Dec 2027, then the holidays of Mon 27 and Tue 28 December.
    (datetime(2027, 6, 25, 10, 0, tzinfo=UTC), date(2027, 11, 25), date(2027, 12, 29),
     date(2027, 7, 26)),
    # The reminder on Sun 28 Feb 2027 (no 29th), the due date on Easter Monday.
    (datetime(2026, 9, 29, 10, 0, tzinfo=UTC), date(2027, 3, 1), date(2027, 3, 30),
     date(2026, 10, 29)),
    # An ordinary Tuesday: the check a month on is Christmas Eve, a working day.
    (datetime(2026, 11, 24, 10, 0, tzinfo=UTC), date(2027, 4, 26), date(2027, 5, 24),
     date(2026, 12, 24)),
])
def test_the_review_is_due_6_months_from_the_decision_even_with_proceedings_pending(
        cspr2, decided, reminder, due, check):
    """Version 1 armed no clock at all for a review whose criminal proceedings were
    pending; version 2 defers only publication. Progress is checked monthly."""
    ref = cspr_at_decision(cspr2, at=decided - 10 * H, criminal_proceedings=True)
    moved = decided + H
    decide(cspr2, ref, "local_review", at=decided)
    clock = pending(cspr2, ref)
    assert local_day(clock["review_due.reminder"].due_at) == reminder
    assert local_day(clock["review_due.due"].due_at) == due
    assert local_day(clock["progress_check.check"].due_at) == check
    assert "publication_due.due" not in clock
    # On publication hold with the proceedings pending: publication waits, and the
    # review's own clock has ended with the review.
    cspr2.fire(ref, "complete_review", by=REVIEWER, at=moved + H, report="Final report")
    held = pending(cspr2, ref)
    assert not [n for n in held if n.startswith(("review_due", "publication_due"))]


# ------------------------------------------------------------------- another area's partners
@pytest.mark.parametrize(("aware", "due"), [
    ("2026-12-21", date(2026, 12, 30)),  # Mon; 25, 28 Dec are bank holidays
    ("2027-03-24", date(2027, 4, 2)),  # Wed; Good Friday and Easter Monday
])
def test_another_area_s_partners_are_to_be_told_within_5_working_days(cspr2, aware, due):
    moment = at_nine(date.fromisoformat(aware)) + H
    ref = cspr2.refer({**CSPR_REFERRAL, "aware_on": aware, "lives_in_area": "Otherborough"},
                      at=moment)
    assert local_day(pending(cspr2, ref)["other_area.due"].due_at) == due
    cspr2.fire(ref, "record_other_area_told", at=moment + H, date=aware)
    assert not [n for n in pending(cspr2, ref) if n.startswith("other_area")]
    with pytest.raises(Refused, match="told already"):
        cspr2.fire(ref, "record_other_area_told", at=moment + 2 * H, date=aware)
    here = cspr2.refer({**CSPR_REFERRAL, "aware_on": aware}, at=moment)
    assert not [n for n in pending(cspr2, here) if n.startswith("other_area")]


# ------------------------------------------------------------- the rapid review's own record
def test_the_rapid_review_s_record_stays_out_of_history_and_e_mail(cspr2):
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = cspr_at_decision(cspr2, at=start)
    secret = "Mother's partner known to police in Otherborough"
    with pytest.raises(Refused, match="at least one part"):
        cspr2.fire(ref, "record_rapid_review", at=start + 7 * H)
    cspr2.fire(ref, "record_rapid_review", by=LA, at=start + 8 * H, practice_episodes=secret,
               context="housing insecurity")
    stored = facts(cspr2, ref)
    assert stored["rapid_review_practice"] == secret
    assert stored["rapid_review_context"] == "housing insecurity"
    [row] = [h for h in history(cspr2, ref) if h.trigger == "record_rapid_review"]
    assert secret not in str(row.params)
    mail = records.mail(cspr2.db, ref)
    assert mail and not [m for m in mail if secret in m.body_text or secret in m.body_html]
    assert {m.recipient for m in mail if m.history_seq == row.seq} >= PARTNERS_MAIL


# ------------------------------------------------------------------------ the partners
EDUCATION_PARTNER = ("Eda Schools", "eda@board.test", ("safeguarding_partner",), "education")


def add_users(board: Board, *people: tuple[str, str, tuple[str, ...], str | None]) -> None:
    from scr.storage import users
    from scr.storage.db import transaction

    with transaction(board.db) as tx:
        for name, email, roles, agency in people:
            users.add(tx, name=name, email=email, agency=agency, roles=roles, by="test",
                      now=T0)


def test_a_lead_safeguarding_partner_may_decide_for_their_partner(cspr2):
    """Working Together 2023: the delegated partners decide on the lead partners' behalf,
    and a lead partner may act themselves; the lead partners and the partnership chair are
    told of the decision."""
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = cspr_at_decision(cspr2, at=start)
    for user, partner in ((LA, "local_authority"), (ICB, "integrated_care_board")):
        cspr2.fire(ref, "record_partner_view", by=user, at=start + 7 * H, partner=partner,
                   decision="local_review")
    cspr2.fire(ref, "commission_practice_review", by=LEAD_POLICE, at=start + 8 * H,
               reason="improvements in multi-agency working are likely",
               methodology="scie_systems", lead_reviewer=REVIEWER)
    assert cspr2.state(ref) == State.REVIEW
    [decided] = firings(cspr2, ref, "commission_practice_review")
    assert {MAIL[LEAD_POLICE], MAIL[PARTNERSHIP_CHAIR]} <= decided.recipients
    assert V2.words["role:safeguarding_partner"] == "delegated safeguarding partner"


def test_where_education_is_a_partner_its_view_is_needed_too(sqlite_db):
    """The Children's Wellbeing and Schools Act 2026 makes education a safeguarding partner
    once commenced: the board says when ([process] education_partner)."""
    board = Board(sqlite_db, Engine(ProcessConfig(start=("cspr", "2"), education_partner=True),
                                    check_snapshots=True))
    board.seed_users()
    add_users(board, EDUCATION_PARTNER)
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = cspr_at_decision(board, at=start)
    with pytest.raises(Refused, match="no view of local_review is recorded from education"):
        decide(board, ref, "local_review", at=start + 10 * H)
    board.fire(ref, "record_partner_view", by=EDUCATION_PARTNER[0], at=start + 11 * H,
               partner="education", decision="local_review")
    board.fire(ref, "commission_practice_review", by=CONSTABLE, at=start + 12 * H,
               reason="improvements are likely", methodology="scie_systems",
               lead_reviewer=REVIEWER)
    assert board.state(ref) == State.REVIEW


def test_without_the_board_s_word_education_is_not_a_partner(cspr2):
    add_users(cspr2, EDUCATION_PARTNER)
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = cspr_at_decision(cspr2, at=start)
    with pytest.raises(Refused, match="education is not one of this partnership's"):
        cspr2.fire(ref, "record_partner_view", by=EDUCATION_PARTNER[0], at=start + 7 * H,
                   partner="education", decision="local_review")
    decide(cspr2, ref, "local_review", at=start + 10 * H)  # the three decide
    assert cspr2.state(ref) == State.REVIEW


# ------------------------------------------------------------------------- publication
NOTICE_SENT = datetime(2026, 12, 14, 10, 0, tzinfo=UTC)  # a Monday
PUBLISHED_AT = datetime(2026, 12, 29, 10, 0, tzinfo=UTC)  # after Christmas, notice served


def test_the_partners_may_publish_information_about_improvements_instead(cspr2):
    """Where the partners consider the report unsuitable, they publish information about
    the improvements that should be made, with their reasons: that is what publication
    then needs, not the report."""
    ref = cspr_published_ready(cspr2, before=NOTICE_SENT)  # its report recorded
    with pytest.raises(Refused, match="a reason must be given"):
        cspr2.fire(ref, "decide_what_to_publish", by=LA, at=NOTICE_SENT - H,
                   what="improvements")
    cspr2.fire(ref, "decide_what_to_publish", by=LA, at=NOTICE_SENT - H, what="improvements",
               reason="the report would identify the siblings")
    cspr2.fire(ref, "send_prepublication_notice", at=NOTICE_SENT)
    with pytest.raises(Refused, match="outputs not yet recorded: improvement_information"):
        cspr2.fire(ref, "publish", at=PUBLISHED_AT)
    cspr2.fire(ref, "record_output", at=PUBLISHED_AT - H, output="improvement_information",
               location="https://partnership.example/improvements")
    cspr2.fire(ref, "publish", at=PUBLISHED_AT)
    assert cspr2.state(ref) == State.PUBLISHED


@pytest.mark.parametrize(("published", "until", "reminder"), [
    # Tuesday 29 December 2026; a year on, 10 working days back past the 2027 holidays of
    # Monday 27 and Tuesday 28 December.
    (PUBLISHED_AT, date(2027, 12, 29), date(2027, 12, 13)),
    # Thursday 7 January 2027: 10 working days back from Friday 7 January 2028 past New
    # Year's Day (Saturday; Monday 3 January 2028 the holiday).
    (datetime(2027, 1, 7, 10, 0, tzinfo=UTC), date(2028, 1, 7), date(2027, 12, 21)),
])
def test_a_published_review_stays_public_a_year_with_a_reminder_before(cspr2, published,
                                                                       until, reminder):
    ref = cspr_published_ready(cspr2, before=NOTICE_SENT)
    cspr2.fire(ref, "send_prepublication_notice", at=NOTICE_SENT)
    cspr2.fire(ref, "publish", at=published)
    assert facts(cspr2, ref)["public_until"] == until.isoformat()
    kept = pending(cspr2, ref)["kept_public.reminder"]
    assert local_day(kept.due_at) == reminder
    assert "repository.reminder" not in pending(cspr2, ref)  # the board has not opted in


def test_a_board_that_deposits_with_the_nspcc_is_reminded_to(sqlite_db):
    board = Board(sqlite_db, Engine(ProcessConfig(start=("cspr", "2"), nspcc_repository=True),
                                    check_snapshots=True))
    board.seed_users()
    ref = cspr_published_ready(board, before=NOTICE_SENT)
    board.fire(ref, "send_prepublication_notice", at=NOTICE_SENT)
    board.fire(ref, "publish", at=PUBLISHED_AT)
    # 10 working days from Tuesday 29 December 2026, past New Year's Day.
    assert local_day(pending(board, ref)["repository.reminder"].due_at) == date(2027, 1, 13)
    board.fire(ref, "record_repository_deposit", at=PUBLISHED_AT + H, date="2026-12-29")
    assert "repository.reminder" not in pending(board, ref)
    with pytest.raises(Refused, match="deposited with the NSPCC repository already"):
        board.fire(ref, "record_repository_deposit", at=PUBLISHED_AT + 2 * H,
                   date="2026-12-29")


# ------------------------------------------------------------ several children, one incident
def test_the_children_of_one_incident_have_a_case_each_linked(cspr2):
    """A sibling group: each child a case of their own, with their own pseudonym and clocks,
    linked by the reference of the incident's first case, which must be a case of the
    board and not the case itself."""
    from scr.states.errors import InvalidInput

    first = cspr2.refer({**CSPR_REFERRAL, "pseudonym": "Child S1",
                         "harm": "serious_harm"}, at=T0)
    second = cspr2.refer({**CSPR_REFERRAL, "pseudonym": "Child S2", "harm": "serious_harm",
                          "incident": first}, at=T0 + H)
    assert facts(cspr2, second)["incident"] == first
    assert "notification.due" in pending(cspr2, first)
    assert "notification.due" in pending(cspr2, second)
    with pytest.raises(InvalidInput, match="incident: no case CR-2026-9999 on this board"):
        cspr2.refer({**CSPR_REFERRAL, "pseudonym": "Child S3", "incident": "CR-2026-9999"},
                    at=T0 + 2 * H)
    with pytest.raises(InvalidInput, match="not a case reference"):
        cspr2.fire(first, "link_incident", at=T0 + 3 * H, incident="Child S2")
    with pytest.raises(InvalidInput, match="names this case itself"):
        cspr2.fire(first, "link_incident", at=T0 + 3 * H, incident=first)
    third = cspr2.refer({**CSPR_REFERRAL, "pseudonym": "Child S3"}, at=T0 + 4 * H)
    cspr2.fire(third, "link_incident", at=T0 + 5 * H, incident=first)
    assert facts(cspr2, third)["incident"] == first
    # Serious harm to the group is one notification, recorded on each child's case.
    for ref in (first, second, third):
        cspr2.fire(ref, "record_notification", at=T0 + 6 * H, date="2026-11-23")
        assert "rapid_review.due" in pending(cspr2, ref)


def test_a_written_request_to_the_reviewer_is_recorded_and_sent_to_them(cspr2):
    """Regulation 14: the partners monitor the review's time and quality, and may ask the
    reviewer in writing for information or a draft."""
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = cspr_at_decision(cspr2, at=start)
    decide(cspr2, ref, "local_review", at=start + 10 * H)
    cspr2.fire(ref, "request_from_reviewer", by=LA, at=start + 11 * H, what="draft",
               wanted_by="2027-01-15")
    [asked] = firings(cspr2, ref, "request_from_reviewer")
    assert asked.row.params == {"what": "draft", "wanted_by": "2027-01-15"}
    assert MAIL[REVIEWER] in asked.recipients
    assert cspr2.state(ref) == State.REVIEW


# ------------------------------------------------------- the notifications' own date tables
@pytest.mark.parametrize(("aware", "due"), [
    ("2026-12-21", date(2026, 12, 30)),  # Mon; 25, 28 Dec are bank holidays
    ("2026-12-24", date(2027, 1, 5)),  # Thu; 25, 28 Dec and 1 Jan
    ("2027-03-24", date(2027, 4, 2)),  # Wed; Good Friday 26 Mar and Easter Monday 29 Mar
])
def test_a_looked_after_child_s_death_is_notified_within_5_working_days(cspr2, aware, due):
    moment = at_nine(date.fromisoformat(aware)) + H
    ref = cspr2.refer({**LOOKED_AFTER_DEATH, "aware_on": aware}, at=moment)
    clock = pending(cspr2, ref)
    assert local_day(clock["death_notification.due"].due_at) == due
    cspr2.fire(ref, "record_notification", at=moment + H, date=aware)
    assert not [n for n in pending(cspr2, ref) if "notification" in n]


def test_a_year_public_that_ends_on_a_saturday_is_reminded_of_10_working_days_before(cspr2):
    """Published on Thursday 1 April 2027, after Easter: public until Saturday 1 April 2028;
    the reminder 10 working days before, counted back from the weekend (Easter 2028 falls
    later), on Monday 20 March 2028."""
    ref = cspr_published_ready(cspr2, before=datetime(2027, 3, 15, 10, 0, tzinfo=UTC))
    cspr2.fire(ref, "send_prepublication_notice", at=datetime(2027, 3, 15, 10, tzinfo=UTC))
    cspr2.fire(ref, "publish", at=datetime(2027, 4, 1, 10, 0, tzinfo=UTC))
    assert facts(cspr2, ref)["public_until"] == "2028-04-01"
    assert local_day(pending(cspr2, ref)["kept_public.reminder"].due_at) == date(2028, 3, 20)


def test_whether_the_partners_agreed_to_notify_is_recorded(cspr2):
    """The partners agree which incidents are notified; the local authority notifies within
    the time whether or not they have, and the record says which."""
    ref = cspr2.refer(CSPR_REFERRAL, at=T0)
    cspr2.fire(ref, "record_notification", at=T0 + H, date="2026-11-23",
               notification_agreed="true")
    assert facts(cspr2, ref)["notification_agreed"] is True
    other = cspr2.refer(CSPR_REFERRAL, at=T0)
    cspr2.fire(other, "record_notification", at=T0 + H, date="2026-11-23")
    assert facts(cspr2, other)["notification_agreed"] is False
    [told] = firings(cspr2, other, "record_notification")
    assert told.recipients >= PARTNERS_MAIL


@pytest.mark.parametrize(("decided", "check", "then"), [
    # A month on is Christmas Day 2026, then the Boxing Day holiday of Monday 28 December;
    # the next a month after that check.
    (datetime(2026, 11, 25, 10, 0, tzinfo=UTC), date(2026, 12, 29), date(2027, 1, 29)),
    # A month on is Good Friday 2027, then Easter Monday.
    (datetime(2027, 2, 26, 10, 0, tzinfo=UTC), date(2027, 3, 30), date(2027, 4, 30)),
])
def test_the_review_s_progress_is_checked_a_month_on_on_a_working_day(cspr2, decided, check,
                                                                      then):
    ref = cspr_at_decision(cspr2, at=decided - 10 * H)
    decide(cspr2, ref, "local_review", at=decided)
    first = pending(cspr2, ref)["progress_check.check"]
    assert local_day(first.due_at) == check
    sweep_at(cspr2, first.due_at)  # checked: the next one a month after
    assert local_day(pending(cspr2, ref)["progress_check.check"].due_at) == then
