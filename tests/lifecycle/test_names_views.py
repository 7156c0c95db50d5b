"""The views read what a definition says instead of naming its triggers, states and
parameters: what a trigger decides, which completes a review, where a report waits and a
meeting is held, which trigger corrects a record (states/process.py); and the figures,
documents and printouts made from them are what they were."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta

import pytest

from scr.lifecycle.core.engine import Engine
from scr.lifecycle.core.process import Processes
from scr.lifecycle.views import documents, report
from scr.states.case import ReferralFacts
from scr.states.config import ProcessConfig
from scr.states.enums import State
from scr.states.process import NO_REVIEW, NOT_RELEVANT, RELEVANT, WITHDRAWN
from scr.states.registry import REGISTRY
from scr.storage import cases
from scr.storage.db import reading, transaction
from tests.board import BM, HEALTH, SUBCHAIR, Board
from tests.conftest import T0

H = timedelta(hours=1)
SHIPPED = [pytest.param(d, id=f"{d.name}-{d.version}") for d in REGISTRY]


# ------------------------------------------------------------- read from the definition
@pytest.mark.parametrize("definition", SHIPPED)
def test_a_declared_decision_is_the_decision(definition):
    for spec in definition.all_triggers:
        if spec.decision is not None:
            assert definition.decision_of(spec) == spec.decision


def test_the_recommendation_is_recorded_by_the_triggers_whose_effect_records_it():
    """The case page shows the newest recommendation: which trigger made it is what the
    definition's effects say, not a name the portal knows."""
    found = {d.key: d.recommending for d in REGISTRY}
    assert found == {("cspr", "1"): {"recommend"}, ("cspr", "2"): {"recommend"},
                     ("learning", "1"): frozenset(), ("scr", "1"): {"recommend"},
                     ("scr", "2"): {"recommend"}}


def test_the_learning_register_s_decisions_are_read_from_what_its_triggers_do():
    learning = REGISTRY.get("learning", "1")
    assert {t.name: learning.decision_of(t) for t in learning.deciding(
        RELEVANT, NOT_RELEVANT, WITHDRAWN)} == {
        "consider_relevant": RELEVANT, "consider_not_relevant": NOT_RELEVANT,
        "withdraw_review": WITHDRAWN}
    # Closing a case's action plan is no withdrawal: it does not start where a case does.
    scr2 = REGISTRY.get("scr", "2")
    assert [t.name for t in scr2.deciding(WITHDRAWN)] == ["withdraw"]
    assert {t.name for t in scr2.deciding(NO_REVIEW)} == {"decide_no_review"}


@pytest.mark.parametrize("definition", SHIPPED)
def test_where_a_review_is_completed_held_and_met(definition):
    completing = [t.name for t in definition.all_triggers if definition.completes_review(t)]
    if definition.referred:
        assert completing == ["complete_review"]
        assert definition.held_in == {"publication_hold"}
        assert definition.meets_in == {"sub_group"}
        assert definition.amendment is not None
        assert definition.amendment.name == "amend_referral"
    else:
        assert (completing, definition.held_in, definition.meets_in) == ([], set(), set())
        assert definition.amendment is not None
        assert definition.amendment.name == "amend_review"


# ------------------------------------------------------------------------- the report
NATIONAL = {"title": "A national review", "source": "national_review",
            "publisher": "The Panel", "published_on": "2021-09-15", "themes": "neglect"}


@pytest.fixture
def board(sqlite_db) -> Board:
    b = Board(sqlite_db, Engine(ProcessConfig(start=("scr", "1")), check_snapshots=True))
    b.seed_users()
    return b


def _register(board: Board, at, **changes) -> str:
    with transaction(board.db) as tx:
        return board.engine.refer(tx, actor=board.actor(BM), params={**NATIONAL, **changes},
                                  now=at, process_name="learning").ref


def test_the_report_leaves_a_withdrawn_review_out_and_counts_signed_off_actions(board):
    """Three reviews registered: one withdrawn (it counts nowhere), one considered relevant
    with its one action signed off, one not relevant."""
    start = T0.replace(year=T0.year + 1, month=2, day=1)
    day = start.date().isoformat()
    relevant = _register(board, start)
    other = _register(board, start + H, title="Another", source="partnership_review")
    gone = _register(board, start + 2 * H, title="Registered twice")
    board.fire(gone, "withdraw_review", at=start + 3 * H, by=BM, reason="twice")
    board.fire(relevant, "consider_relevant", at=start + 3 * H, by=SUBCHAIR, date=day,
               adopted="Ask about fathers", reason="Relevant")
    board.fire(other, "consider_not_relevant", at=start + 3 * H, by=SUBCHAIR, date=day,
               reason="Not here")
    board.fire(relevant, "add_action", at=start + 4 * H, by=SUBCHAIR, agency="health",
               description="d", owner=HEALTH, due=(start + timedelta(days=30)).date().isoformat())
    board.fire(relevant, "complete_action", at=start + 5 * H, by=HEALTH, action=1,
               evidence="e")
    board.fire(relevant, "sign_off_action", at=start + 6 * H, by=SUBCHAIR, action=1)

    year = start.year
    period = report.Period.of(date(year, 1, 1), date(year, 12, 31), board.engine.config)
    with reading(board.db) as tx:
        doc = report.figures(tx, Processes(board.engine.config), period,
                             now=start + timedelta(days=400), config=board.engine.config)
    assert doc["learning"] == {
        "registered": 2, "considered": 2, "relevant": 1, "not_relevant": 1,
        "awaiting_consideration": 0,
        "by_source": {"national_review": {"considered": 1, "relevant": 1, "not_relevant": 0},
                      "partnership_review": {"considered": 1, "relevant": 0,
                                             "not_relevant": 1}},
        "actions_signed_off": 1}
    text = report.markdown(doc, "Test board")
    assert "(relevant and adopted 1, not relevant 1)" in text
    assert "| National review by the Panel | 1 | 1 | 0 |" in text
    # Signed off before the period: not counted in it.
    later = report.Period.of(date(year + 1, 1, 1), date(year + 1, 12, 31),
                             board.engine.config)
    with reading(board.db) as tx:
        doc = report.figures(tx, Processes(board.engine.config), later,
                             now=start + timedelta(days=800), config=board.engine.config)
    assert doc["learning"]["actions_signed_off"] == 0


# ------------------------------------------------------------------------ the documents
REFERRAL_KEYS = ["incident_date", "harm", "abuse", "agency_concern", "grounds", "route",
                 "referrer_agency", "criminal_proceedings", "aware_on", "looked_after"]


def test_the_referral_s_facts_are_parameters_of_the_creating_triggers():
    params = REGISTRY.referral_params()
    assert [f.name for f in fields(ReferralFacts)] == REFERRAL_KEYS
    assert set(REFERRAL_KEYS) <= set(params)


def test_a_case_s_document_keeps_its_keys_in_their_order(board):
    """A version 1 referral, which did not ask when the authority became aware, has every
    key of the contract; a review from elsewhere and a training keep theirs."""
    ref = board.refer(at=T0)
    t = board.walk(ref, State.PUBLISHED, at=T0)
    board.fire(ref, "record_training", at=t + H, by=SUBCHAIR, course="A", audience="GPs",
               starts_on="2026-12-01", ends_on="2026-12-02", trained=25)
    review = _register(board, t + H, link="https://example.org/r")
    with reading(board.db) as tx:
        case, item = cases.load(tx, ref), cases.load(tx, review)
        processes = board.engine.processes
        doc = documents.case_document(tx, processes.of(case), case, reader=None)
        kept = documents.case_document(tx, processes.of(item), item, reader=None)
    assert list(doc["referral"]) == REFERRAL_KEYS
    assert (doc["referral"]["incident_date"], doc["referral"]["aware_on"],
            doc["referral"]["grounds"]) == ("2026-11-02", None, [])
    assert doc["training"] == [{
        "training": 1, "course": "A", "audience": "GPs", "starts_on": "2026-12-01",
        "ends_on": "2026-12-02", "trained": 25, "actions": [], "recorded_by": SUBCHAIR,
        "recorded_at": (t + H).isoformat()}]
    assert kept["referral"] is None
    assert kept["learning"] == {
        "title": "A national review", "source": "national_review", "publisher": "The Panel",
        "published_on": "2021-09-15", "themes": ["neglect"], "link": "https://example.org/r",
        "relevant": None, "considered_on": None, "considered_by": None}
