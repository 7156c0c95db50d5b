"""The learning register and the checks that learning took hold, through the engine.

The seed documents' story: the Child C SCR's actions are signed off, and a quality
assurance audit then finds them embedded; a national review is considered relevant and the
local action it raises is tracked to sign-off. Each change is a trigger like any other:
history, seals, roles, timers and e-mail.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scr.lifecycle.core.engine import Engine
from scr.lifecycle.core.process import Processes
from scr.lifecycle.views import report
from scr.states.config import ProcessConfig
from scr.states.enums import USER_ROLES, State
from scr.states.errors import InvalidInput, Refused
from scr.storage import history as stored_history
from scr.storage import learning
from scr.storage.db import reading
from tests import records
from tests.board import (
    BELOW_THRESHOLD,
    BM,
    CSC,
    HEALTH,
    MEMBER,
    SCR_REFERRAL,
    SUBCHAIR,
    USERS,
    Board,
)
from tests.conftest import T0
from tests.lifecycle.sweeping import by_name, firings, sweep_at, timers

H = timedelta(hours=1)
NATIONAL = {
    "title": "The Myth of Invisible Men: safeguarding children under 1 from non-accidental "
             "injury caused by male carers",
    "source": "national_review", "publisher": "Child Safeguarding Practice Review Panel",
    "published_on": "2021-09-15",
    "themes": "non_accidental_injury_in_infants,working_with_fathers",
    "link": "https://www.gov.uk/government/publications/safeguarding-children-under-1-year-old",
}
ADOPTED = "Midwives and health visitors ask about every man in the household"


@pytest.fixture
def board(db) -> Board:
    """On SQLite and on PostgreSQL."""
    b = Board(db, Engine(ProcessConfig(start=("scr", "1")), check_snapshots=True))
    b.seed_users()
    return b


def register(board: Board, at=T0, **changes) -> str:
    actor = board.actor(BM)
    from scr.storage.db import transaction

    with transaction(board.db) as tx:
        return board.engine.refer(tx, actor=actor, params={**NATIONAL, **changes}, now=at,
                                  process_name="learning").ref


def test_registering_opens_a_learning_record(board):
    """Registered under the learning process, with an LRN reference of its own, its title
    standing for the pseudonym, in `registered`, told to the sub-group."""
    ref = register(board)
    assert ref == f"LRN-{T0.year}-0001"
    case = board.case(ref)
    assert (case.definition, case.definition_version, case.state) == (
        "learning", "1", "registered")
    assert case.pseudonym.startswith("The Myth of Invisible Men") and len(case.pseudonym) <= 80
    with reading(board.db) as tx:
        item = learning.item(tx, case.id)
    assert (item.source, item.published_on, item.themes, item.relevant) == (
        "national_review", date(2021, 9, 15),
        ["non_accidental_injury_in_infants", "working_with_fathers"], None)
    mail = records.mail(board.db, ref)
    assert {m.recipient_role for m in mail} >= {"business_manager", "subgroup_chair",
                                                "subgroup_member"}
    # The board's own numbering is untouched: its next case is still number 1.
    assert board.refer(SCR_REFERRAL, at=T0 + H).endswith("-0001")


def test_an_unknown_theme_is_bad_input_and_nothing_is_written(board):
    with pytest.raises(InvalidInput, match="themes: unknown value 'astrology'"):
        register(board, themes="neglect,astrology")
    assert records.counts(board.db) == (0, 0, 0)


def test_consideration_needs_the_sub_group_chair_and_a_reason(board):
    ref = register(board)
    with pytest.raises(Refused, match="reason"):
        board.fire(ref, "consider_not_relevant", at=T0 + H, by=SUBCHAIR,
                   date=T0.date().isoformat())
    with pytest.raises(Refused, match="subgroup_chair"):
        board.fire(ref, "consider_not_relevant", at=T0 + H, by=MEMBER, reason="Not here",
                   date=T0.date().isoformat())
    case = board.fire(ref, "consider_not_relevant", at=T0 + H, by=SUBCHAIR,
                      reason="No maternity unit here", date=T0.date().isoformat())
    assert case.state == "not_relevant" and case.closed_at == T0 + H
    with reading(board.db) as tx:
        item = learning.item(tx, case.id)
    assert (item.relevant, item.considered_by, item.considered_on) == (
        False, SUBCHAIR, T0.date())


def test_a_national_review_considered_relevant_is_tracked_to_sign_off(board):
    """The action it raises follows a case's action plan rules: owner, due date, evidence,
    sign-off; the recommendations adopted are kept in the register, never in history or
    e-mail."""
    ref = register(board)
    t = T0 + H
    board.fire(ref, "consider_relevant", at=t, by=SUBCHAIR, date=t.date().isoformat(),
               adopted=ADOPTED, reason="Three of our infant injury cases had unknown men")
    due = (t + timedelta(days=60)).date().isoformat()
    board.fire(ref, "add_action", at=t + H, by=SUBCHAIR, agency="health",
               description="Ask about men in the household at every contact", owner=HEALTH,
               due=due)
    assert "action.1.reminder" in by_name(timers(board, ref, "pending"))
    with pytest.raises(Refused, match="evidence"):
        board.fire(ref, "complete_action", at=t + 2 * H, by=HEALTH, action=1, evidence="")
    with pytest.raises(Refused, match="not completed"):
        board.fire(ref, "sign_off_action", at=t + 2 * H, by=SUBCHAIR, action=1)
    board.fire(ref, "complete_action", at=t + 3 * H, by=HEALTH, action=1,
               evidence="Audit of 40 records: question asked in 38")
    board.fire(ref, "sign_off_action", at=t + 4 * H, by=SUBCHAIR, action=1)
    done = board.fire(ref, "sign_off_actions", at=t + 5 * H, by=SUBCHAIR)
    assert done.state == "actions_signed_off"
    rows = records.case_history(board.db, ref)
    assert [h.trigger for h in rows] == ["register_review", "consider_relevant", "add_action",
                                         "complete_action", "sign_off_action",
                                         "sign_off_actions"]
    assert rows[1].params["adopted"] == "(stored)"
    for m in records.mail(board.db, ref):
        assert ADOPTED not in (m.subject + (m.body_text or "") + str(m.notice))
    with reading(board.db) as tx:
        audit = stored_history.verify(tx)
    assert audit.breaks == [] and audit.sealed == audit.cases == 1


def test_the_sub_group_is_reminded_then_told_consideration_is_due(board):
    """Two months without consideration: a reminder; three (the next quarterly meeting):
    due, to the independent chair too."""
    ref = register(board)
    pending = by_name(timers(board, ref, "pending"))
    assert set(pending) == {"consideration.reminder", "consideration.due"}
    sweep_at(board, pending["consideration.reminder"].due_at + H)
    sweep_at(board, pending["consideration.due"].due_at + H)
    fired = firings(board, ref)
    assert [f.row.params["level"] for f in fired] == ["reminder", "due"]
    assert "chair@board.test" in fired[1].recipients
    assert "chair@board.test" not in fired[0].recipients
    # Considered, the ladder is disarmed.
    board.fire(ref, "consider_not_relevant", at=pending["consideration.due"].due_at + 2 * H,
               by=SUBCHAIR, reason="Not relevant", date=T0.date().isoformat())
    assert timers(board, ref, "pending") == []


# ------------------------------------------------------------- audits and training
def child_c(board: Board) -> str:
    ref = board.refer({**SCR_REFERRAL, "pseudonym": "Child C"}, at=T0)
    board.walk(ref, State.ACTIONS_SIGNED_OFF, at=T0)
    return ref


def test_child_c_s_actions_signed_off_then_an_audit_finds_them_embedded(board):
    """The seed's story: the QA sub-group's audit of whether the changes from the Child C
    SCR and the Child L case review became embedded, recorded on each."""
    ref = child_c(board)
    child_l = board.refer({**BELOW_THRESHOLD, "pseudonym": "Child L"}, at=T0)
    board.walk(child_l, State.ACTIONS_SIGNED_OFF, at=T0, scr=False)
    with reading(board.db) as tx:
        untested = learning.untested(tx)
    assert [(r, row.number) for r, _, row in untested] == sorted([(ref, 1), (child_l, 1)])
    board.fire(child_l, "record_audit", at=board.case(child_l).updated_at + H, by=BM,
               date=T0.date().isoformat(), finding="partly_embedded")
    at = board.case(ref).updated_at + timedelta(days=90)
    case = board.fire(ref, "record_audit", at=at, by=BM, date=at.date().isoformat(),
                      finding="embedded", actions="1",
                      note="Case files show the new training in use")
    assert case.state == "actions_signed_off"  # an audit records; it never moves a case
    with reading(board.db) as tx:
        (audit,) = learning.audits(tx, case.id)
        assert learning.untested(tx) == []
    assert (audit.number, audit.finding, audit.actions, audit.recorded_by) == (
        1, "embedded", [1], BM)
    row = records.case_history(board.db, ref)[-1]
    assert (row.trigger, row.params["finding"], row.params["note"]) == (
        "record_audit", "embedded", "(stored)")
    mail = [m for m in records.mail(board.db, ref) if m.history_seq == row.seq]
    # The agency whose action was tested hears, and the sub-group chair.
    assert {m.recipient for m in mail} >= {"health@board.test", "subchair@board.test"}
    assert all("new training in use" not in (m.body_text or "") + str(m.notice) for m in mail)


def test_an_audit_names_only_actions_the_case_has(board):
    ref = child_c(board)
    at = board.case(ref).updated_at + H
    with pytest.raises(Refused, match="has no action 7"):
        board.fire(ref, "record_audit", at=at, by=BM, date=at.date().isoformat(),
                   finding="partly_embedded", actions="1,7")
    with pytest.raises(Refused, match="needs business_manager or subgroup_chair"):
        board.fire(ref, "record_audit", at=at, by=CSC, date=at.date().isoformat(),
                   finding="embedded")


def test_an_audit_before_publication_does_not_apply(board):
    ref = board.refer(SCR_REFERRAL, at=T0)
    with pytest.raises(Refused, match="does not apply"):
        board.fire(ref, "record_audit", at=T0 + H, by=BM, date=T0.date().isoformat(),
                   finding="embedded")


def test_training_is_recorded_with_its_dates_in_order(board):
    ref = child_c(board)
    at = board.case(ref).updated_at + H
    with pytest.raises(Refused, match=r"ends \(2027-03-01\) before it starts"):
        board.fire(ref, "record_training", at=at, by=SUBCHAIR, course="Think family",
                   audience="GPs", starts_on="2027-03-02", ends_on="2027-03-01", trained=20)
    case = board.fire(ref, "record_training", at=at, by=SUBCHAIR, course="Think family",
                      audience="GPs and practice nurses", starts_on="2027-03-01",
                      ends_on="2027-03-02", trained=48, actions="1")
    with reading(board.db) as tx:
        (training,) = learning.trainings(tx, case.id)
    assert (training.course, training.trained, training.actions) == ("Think family", 48, [1])


# -------------------------------------------------------------------- the report
def test_the_annual_report_s_learning_figures_from_a_fixture_year(board):
    """In the year: one SCR published and its action signed off, then audited (embedded);
    three reviews from elsewhere registered, two considered (one relevant, its action
    signed off), one still waiting; a partly-embedded audit of the national review's
    learning; two courses training 60 people, one of them ending after the year."""
    year = T0.year + 1
    start = T0.replace(year=year, month=1, day=4)
    ref = board.refer({**SCR_REFERRAL, "pseudonym": "Child C"}, at=start)
    t = board.walk(ref, State.ACTIONS_SIGNED_OFF, at=start)
    national = register(board, at=t)
    other = register(board, at=t + H, title="Child Q: a partnership review",
                     source="partnership_review", publisher="A partnership elsewhere")
    register(board, at=t + 2 * H, title="Thematic briefing", source="thematic_review",
             publisher="The Panel")
    day = (t + 3 * H).date().isoformat()
    board.fire(national, "consider_relevant", at=t + 3 * H, by=SUBCHAIR, date=day,
               adopted=ADOPTED, reason="Relevant")
    board.fire(other, "consider_not_relevant", at=t + 3 * H, by=SUBCHAIR, date=day,
               reason="Different service model")
    board.fire(national, "add_action", at=t + 4 * H, by=SUBCHAIR, agency="health",
               description="d", owner=HEALTH, due=(t + timedelta(days=30)).date().isoformat())
    board.fire(national, "complete_action", at=t + 5 * H, by=HEALTH, action=1, evidence="e")
    board.fire(national, "sign_off_action", at=t + 6 * H, by=SUBCHAIR, action=1)
    board.fire(ref, "record_audit", at=t + 7 * H, by=BM, date=day, finding="embedded")
    board.fire(national, "record_audit", at=t + 7 * H, by=BM, date=day,
               finding="partly_embedded")
    board.fire(ref, "record_training", at=t + 8 * H, by=SUBCHAIR, course="A", audience="GPs",
               starts_on=day, ends_on=day, trained=25)
    board.fire(national, "record_training", at=t + 8 * H, by=SUBCHAIR, course="B",
               audience="Midwives", starts_on=day, ends_on=f"{year + 1}-01-10", trained=35)

    processes = Processes(board.engine.config)
    period = report.Period.of(date(year, 1, 1), date(year, 12, 31), board.engine.config)
    with reading(board.db) as tx:
        doc = report.figures(tx, processes, period, now=t + timedelta(days=400),
                             config=board.engine.config)
    assert doc["referrals"]["received"] == 1  # the register's records are not referrals
    assert doc["published"]["reports"] == 1
    assert sum(a["signed_off"] for a in doc["actions"]) == 1  # Child C's, not the register's
    assert doc["learning"] == {
        "registered": 3, "considered": 2, "relevant": 1, "not_relevant": 1,
        "awaiting_consideration": 1,
        "by_source": {"national_review": {"considered": 1, "relevant": 1, "not_relevant": 0},
                      "partnership_review": {"considered": 1, "relevant": 0,
                                             "not_relevant": 1}},
        "actions_signed_off": 1}
    assert doc["audits"] == {"run": 2, "reviews": 2,
                             "by_finding": {"embedded": 1, "partly_embedded": 1,
                                            "not_embedded": 0},
                             "signed_off_actions_untested": 0}
    assert doc["training"] == {"courses": 1, "trained": 25}
    assert {s["state"] for s in doc["stages"]}.isdisjoint({"registered", "adopted"})
    text = report.markdown(doc, "Test board")
    assert "Learning from reviews elsewhere" in text and "| Partly embedded | 1 |" in text
    assert "learning,,awaiting_consideration,1" in report.csv_text(doc)


def test_the_chair_hears_of_a_relevant_review(board):
    ref = register(board)
    board.fire(ref, "consider_relevant", at=T0 + H, by=SUBCHAIR, date=T0.date().isoformat(),
               adopted=ADOPTED, reason="Relevant")
    row = records.case_history(board.db, ref)[-1]
    told = {m.recipient for m in records.mail(board.db, ref) if m.history_seq == row.seq}
    assert {"chair@board.test", "subchair@board.test", "bm@board.test"} <= told


def test_a_review_registered_this_moment_is_awaiting_consideration(board):
    """The report as of now counts what was registered at this very moment."""
    register(board, at=T0)
    period = report.Period.of(T0.date(), T0.date(), board.engine.config)
    with reading(board.db) as tx:
        doc = report.figures(tx, Processes(board.engine.config), period, now=T0,
                             config=board.engine.config)
    assert (doc["learning"]["registered"], doc["learning"]["awaiting_consideration"]) == (1, 1)


def test_a_review_registered_in_error_is_withdrawn_and_counts_nowhere(board):
    ref = register(board)
    with pytest.raises(Refused, match="needs business_manager"):
        board.fire(ref, "withdraw_review", at=T0 + H, by=SUBCHAIR, reason="Twice")
    with pytest.raises(Refused, match="reason"):
        board.fire(ref, "withdraw_review", at=T0 + H, by=BM)
    case = board.fire(ref, "withdraw_review", at=T0 + H, by=BM, reason="Registered twice")
    assert case.state == "withdrawn" and case.closed_at == T0 + H
    assert timers(board, ref, "pending") == []
    with pytest.raises(Refused, match="does not apply"):
        board.fire(ref, "consider_relevant", at=T0 + 2 * H, by=SUBCHAIR, adopted="x",
                   date=T0.date().isoformat(), reason="x")
    period = report.Period.of(T0.date(), T0.date(), board.engine.config)
    with reading(board.db) as tx:
        doc = report.figures(tx, Processes(board.engine.config), period, now=T0 + 3 * H,
                             config=board.engine.config)
    assert (doc["learning"]["registered"], doc["learning"]["awaiting_consideration"]) == (0, 0)


# ------------------------------------------------------------------ authorisation
LEARNING_DEF = Processes().get("learning", "1").definition
# A plausible input for each trigger a person fires on a learning record or a reviewed case.
INPUT = {
    "amend_review": {"link": "https://example.org/corrected"},
    "consider_relevant": {"date": T0.date().isoformat(), "adopted": "a"},
    "consider_not_relevant": {"date": T0.date().isoformat()},
    "withdraw_review": {},
    "add_action": {"agency": "health", "description": "d", "owner": HEALTH,
                   "due": "2027-06-01"},
    "complete_action": {"action": "1", "evidence": "e"},
    "sign_off_action": {"action": "1"},
    "sign_off_actions": {},
    "record_audit": {"date": T0.date().isoformat(), "finding": "embedded"},
    "record_training": {"course": "c", "audience": "a", "starts_on": "2026-11-02",
                        "ends_on": "2026-11-03", "trained": "3"},
}
HOLDER = {roles[0]: name for name, _, roles, _ in USERS}
# (trigger, role, the record it is tried on): every trigger of the register, on a record in
# its first source state, and the impact checks on a published SCR too.
PAIRS = [(spec.name, role, spec.sources[0]) for spec in LEARNING_DEF.all_triggers
         if not spec.system_only
         for role in USER_ROLES if role not in {r.role for r in spec.roles}]
PAIRS += [(name, role, "published") for name in ("record_audit", "record_training")
          for role in USER_ROLES if role not in ("business_manager", "subgroup_chair")]


@pytest.fixture(scope="module")
def records_in(shared_board) -> dict[str, str]:
    """A learning record registered, and one adopted with an action; a published SCR."""
    b = shared_board
    made = {"registered": register(b)}
    adopted = register(b)
    b.fire(adopted, "consider_relevant", at=T0 + H, by=SUBCHAIR, reason="r",
           **INPUT["consider_relevant"])
    b.fire(adopted, "add_action", at=T0 + H, by=SUBCHAIR, **INPUT["add_action"])
    made["adopted"] = adopted
    published = b.refer(SCR_REFERRAL, at=T0)
    b.walk(published, State.PUBLISHED, at=T0)
    made["published"] = published
    return made


@pytest.mark.parametrize(("trigger", "role", "where"), PAIRS)
def test_every_learning_trigger_is_refused_to_roles_without_it(shared_board, records_in,
                                                                trigger, role, where):
    """Generated from the definition: a user whose only role is not among the trigger's
    is refused, and nothing is written; the auditor, who reads everything, writes nothing."""
    ref = records_in[where]
    before = shared_board.case(ref).version
    with pytest.raises(Refused, match="may not fire"):
        shared_board.fire(ref, trigger, at=T0 + 2 * H, by=HOLDER[role], reason="r",
                          **INPUT[trigger])
    assert shared_board.case(ref).version == before


def test_what_was_registered_is_corrected_with_a_reason(board):
    """A corrected title renames the record where its pseudonym shows; the consideration
    stands; the correction is in history, and the snapshot the engine derives matches the
    stored record (Engine.check_snapshots)."""
    ref = register(board)
    board.fire(ref, "consider_relevant", at=T0 + H, by=SUBCHAIR, date=T0.date().isoformat(),
               adopted=ADOPTED, reason="Relevant")
    with pytest.raises(Refused, match="at least one of the review's details"):
        board.fire(ref, "amend_review", at=T0 + 2 * H, reason="typo")
    with pytest.raises(Refused, match="reason"):
        board.fire(ref, "amend_review", at=T0 + 2 * H, title="The Myth of Invisible Men")
    case = board.fire(ref, "amend_review", at=T0 + 2 * H, reason="Title as published",
                      title="The Myth of Invisible Men", themes="working_with_fathers")
    assert case.pseudonym == "The Myth of Invisible Men" and case.state == "adopted"
    with reading(board.db) as tx:
        item = learning.item(tx, case.id)
    assert (item.title, item.themes, item.relevant, item.link) == (
        "The Myth of Invisible Men", ["working_with_fathers"], True, NATIONAL["link"])
    row = records.case_history(board.db, ref)[-1]
    assert (row.trigger, row.reason) == ("amend_review", "Title as published")


def test_the_e_mail_about_a_review_calls_it_a_review(board):
    """The shared layout says what the record is: a review on the register, a case else."""
    from scr.handlers.notices import notice_from_json
    from scr.handlers.render import render

    def rendered(ref: str) -> str:
        m = records.mail(board.db, ref)[0]
        done = render(notice_from_json({**m.notice, "recipient_name": "Sol Subchair",
                                        "recipient_role": m.recipient_role}))
        return done.text + done.html

    review = rendered(register(board))
    assert "Review:   LRN-" in review and "new review, now at Registered" in review
    assert "for this review." in review and "new case" not in review
    case = rendered(board.refer(SCR_REFERRAL, at=T0))
    assert "Case:     CR-" in case and "new case, now at" in case and "Review:" not in case
