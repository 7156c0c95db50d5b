"""The lifecycle as a table: every trigger from every state is done, or refused with the
reason a user would read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scr.states.enums import State
from scr.states.errors import InvalidInput, Refused
from scr.states.scr.v1 import DEFINITION
from tests.board import (
    BELOW_THRESHOLD,
    BM,
    CHAIR,
    HEALTH,
    REVIEWER,
    SCR_REFERRAL,
    SUBCHAIR,
    Board,
)
from tests.conftest import T0
from tests.states.test_definition import TRIGGER_TABLE

# The module's fixtures (its cases in every state) are built once for all its tests: on one xdist
# worker, not once on each.
pytestmark = pytest.mark.xdist_group("table")

ALL_TRIGGERS = DEFINITION.all_triggers

S = State
DONE = "done"


def case_in(board: Board, state: State, *, referral=None) -> tuple[str, object]:
    """A new case taken along the usual path to `state`; returns its ref and the moment."""
    ref = board.refer(referral or SCR_REFERRAL, at=T0)
    if state == S.CLOSED:
        board.fire(ref, "withdraw", at=T0 + timedelta(hours=1), reason="duplicate referral")
        return ref, T0 + timedelta(hours=1)
    return ref, board.walk(ref, state, at=T0, scr=referral is None)


# (state, trigger, actor, params, reason, expected: a state, or the refusal's words)
ROWS = [
    (S.REFERRAL, "request_information", BM, {"agencies": "health"}, None,
     S.INFORMATION_REQUEST),
    (S.REFERRAL, "request_information", BM, {"agencies": ""}, None, "at least one agency"),
    (S.REFERRAL, "withdraw", BM, {}, "duplicate", S.CLOSED),
    (S.REFERRAL, "withdraw", BM, {}, None, "a reason must be given"),
    (S.REFERRAL, "withdraw", CHAIR, {}, "duplicate", "it needs business_manager"),
    (S.REFERRAL, "amend_referral", BM, {"harm": "other"}, "corrected", S.REFERRAL),
    (S.REFERRAL, "amend_referral", BM, {}, "corrected", "at least one referral field"),
    (S.INFORMATION_REQUEST, "add_agency", BM, {"agency": "education"}, None,
     S.INFORMATION_REQUEST),
    (S.INFORMATION_REQUEST, "add_agency", BM, {"agency": "health"}, None,
     "health has already been asked"),
    (S.INFORMATION_REQUEST, "record_return", HEALTH,
     {"agency": "health", "view": "scr", "summary": "seen twice"}, None, S.INFORMATION_REQUEST),
    (S.INFORMATION_REQUEST, "record_return", HEALTH,
     {"agency": "police", "view": "scr", "summary": "x"}, None, "agency_lead (of that agency)"),
    (S.INFORMATION_REQUEST, "record_return", BM,
     {"agency": "education", "view": "scr", "summary": "x"}, None, "education was not asked"),
    (S.INFORMATION_REQUEST, "submit_to_sub_group", BM, {}, None, "returns are outstanding"),
    (S.INFORMATION_REQUEST, "withdraw", BM, {}, "no longer needed", S.CLOSED),
    (S.SUB_GROUP, "record_meeting", SUBCHAIR,
     {"date": "2026-11-23", "attendees": "health,police"}, None, S.SUB_GROUP),
    (S.SUB_GROUP, "recommend", SUBCHAIR, {"recommendation": "scr"}, "met",
     "no sub-group meeting has been recorded"),
    (S.SUB_GROUP, "request_more_information", SUBCHAIR, {"agencies": "education"}, None,
     S.INFORMATION_REQUEST),
    (S.SUB_GROUP, "request_more_information", BM, {"agencies": "education"}, None,
     "it needs subgroup_chair"),
    (S.CHAIR_DECISION, "commission_scr", CHAIR,
     {"methodology": "scie_systems", "lead_reviewer": REVIEWER}, None, S.REVIEW),
    (S.CHAIR_DECISION, "commission_scr", CHAIR,
     {"methodology": "scie_systems", "lead_reviewer": ""}, None, "lead_reviewer must be given"),
    (S.CHAIR_DECISION, "commission_case_review", CHAIR,
     {"methodology": "hot_debrief", "lead_reviewer": REVIEWER}, None,
     "an SCR must be commissioned"),
    (S.CHAIR_DECISION, "decide_no_review", CHAIR, {}, "no learning",
     "an SCR must be commissioned"),
    (S.CHAIR_DECISION, "refer_back", CHAIR, {}, "more detail", S.SUB_GROUP),
    (S.CHAIR_DECISION, "refer_back", CHAIR, {}, None, "a reason must be given"),
    (S.REVIEW, "record_milestone", REVIEWER, {"milestone": "practitioner event"}, None,
     S.REVIEW),
    (S.REVIEW, "complete_review", REVIEWER, {"report": "Child K overview"}, None,
     S.PUBLICATION_HOLD),
    (S.REVIEW, "complete_review", REVIEWER, {"report": ""}, None, "title of the final report"),
    (S.REVIEW, "record_panel_notice", BM, {"date": "2026-11-23"}, None, S.REVIEW),
    (S.PUBLICATION_HOLD, "record_proceedings", BM, {"criminal": "pending"}, None,
     S.PUBLICATION_HOLD),
    (S.PUBLICATION_HOLD, "record_output", BM, {"output": "briefing"}, None, S.PUBLICATION_HOLD),
    (S.PUBLICATION_HOLD, "send_prepublication_notice", BM, {}, None, S.PUBLICATION_HOLD),
    (S.PUBLICATION_HOLD, "schedule_publication", BM, {"date": "2026-11-24"}, None,
     "not be before the end of the notice period"),
    (S.PUBLICATION_HOLD, "schedule_publication", BM, {"date": "2027-03-01"}, None,
     S.PUBLICATION_HOLD),
    (S.PUBLICATION_HOLD, "publish", BM, {}, None,
     "pre-publication notice to Ofsted and the Department has not been sent"),
    (S.PUBLICATION_HOLD, "publish", BM, {}, None,
     "outputs not yet recorded: overview_report, board_response"),
    (S.PUBLISHED, "add_action", SUBCHAIR,
     {"agency": "multi_agency", "description": "Audit", "owner": BM, "due": "2027-06-01"},
     None, S.PUBLISHED),
    (S.PUBLISHED, "add_action", SUBCHAIR,
     {"agency": "health", "description": "", "owner": BM, "due": "2027-06-01"}, None,
     "description must be given"),
    (S.PUBLISHED, "sign_off_actions", SUBCHAIR, {}, None, "no actions have been recorded"),
    (S.CLOSED, "record_panel_notice", BM, {"date": "2026-11-23"}, None, S.CLOSED),
]


@pytest.mark.parametrize(("state", "trigger", "actor", "params", "reason", "expected"), ROWS,
                         ids=[f"{r[0].value}-{r[1]}-{i}" for i, r in enumerate(ROWS)])
def test_trigger_from_state(shared_board, state, trigger, actor, params, reason, expected):
    """Done (the case is in the expected state) or refused with the expected reason."""
    ref, at = case_in(shared_board, state)
    before = shared_board.case(ref)
    at = at + timedelta(minutes=5)
    if isinstance(expected, State):
        case = shared_board.fire(ref, trigger, at=at, by=actor, reason=reason, **params)
        assert case.state == expected
        assert case.version == before.version + 1
    else:
        with pytest.raises(Refused) as refused:
            shared_board.fire(ref, trigger, at=at, by=actor, reason=reason, **params)
        assert any(expected in r for r in refused.value.reasons), refused.value.reasons
        assert shared_board.case(ref).version == before.version


NOT_APPLICABLE = [
    (state, spec.name)
    for state in State
    for spec in ALL_TRIGGERS
    if spec.name in TRIGGER_TABLE and state.value not in TRIGGER_TABLE[spec.name][0]
]


@pytest.fixture(scope="module")
def one_case_per_state(shared_board) -> dict[State, str]:
    return {state: case_in(shared_board, state)[0] for state in State}


@pytest.mark.parametrize(("state", "trigger"), NOT_APPLICABLE)
def test_trigger_that_does_not_apply_is_refused(shared_board, one_case_per_state, state,
                                                trigger):
    """A trigger fired from a state it does not leave is refused, whoever fires it."""
    ref = one_case_per_state[state]
    spec_roles = TRIGGER_TABLE[trigger][2]
    by = {"business_manager": BM, "chair": CHAIR, "subgroup_chair": SUBCHAIR,
          "lead_reviewer": REVIEWER, "agency_lead": HEALTH}[sorted(spec_roles)[0]]
    with pytest.raises(Refused, match=f"does not apply to {ref} in state {state.value}"):
        shared_board.fire(ref, trigger, at=T0 + timedelta(days=60), by=by)
    assert shared_board.state(ref) == state


def test_final_states_have_no_transition_out(shared_board, one_case_per_state):
    """From actions_signed_off nothing applies; from closed only the panel notice does."""
    for state in (S.ACTIONS_SIGNED_OFF, S.CLOSED):
        applicable = [t for t, (sources, _, _) in TRIGGER_TABLE.items() if state.value in sources]
        assert applicable == ([] if state == S.ACTIONS_SIGNED_OFF else ["record_panel_notice"])


def test_criteria_not_met_allows_a_case_review(shared_board):
    """Below the threshold, the chair may commission a case review or decide no review."""
    ref, at = case_in(shared_board, S.CHAIR_DECISION, referral=BELOW_THRESHOLD)
    case = shared_board.fire(ref, "commission_case_review", at=at + timedelta(hours=1),
                             by=CHAIR, methodology="hot_debrief", lead_reviewer=REVIEWER)
    assert (case.state, case.kind) == ("review", "case_review")
    ref2, at2 = case_in(shared_board, S.CHAIR_DECISION, referral=BELOW_THRESHOLD)
    with pytest.raises(Refused, match="a reason must be given"):
        shared_board.fire(ref2, "decide_no_review", at=at2, by=CHAIR)
    assert shared_board.fire(ref2, "decide_no_review", at=at2, by=CHAIR,
                             reason="single-agency learning only").state == "closed"


def test_scr_below_criteria_needs_a_rationale(shared_board):
    """The chair may commission an SCR below the criteria only with a recorded rationale."""
    ref, at = case_in(shared_board, S.CHAIR_DECISION, referral=BELOW_THRESHOLD)
    params = {"methodology": "learning_review", "lead_reviewer": REVIEWER}
    with pytest.raises(Refused, match="give the rationale"):
        shared_board.fire(ref, "commission_scr", at=at, by=CHAIR, **params)
    case = shared_board.fire(ref, "commission_scr", at=at, by=CHAIR,
                             reason="national learning on bruising in infants", **params)
    assert case.kind == "scr" and "scr_below_criteria" in case.flags


def test_unknown_action_number_is_bad_input(shared_board):
    """Completing an action the plan does not hold is bad input, not a refusal."""
    ref, at = case_in(shared_board, S.PUBLISHED)
    with pytest.raises(InvalidInput, match="has no action 7"):
        shared_board.fire(ref, "complete_action", at=at, by=BM, action="7", evidence="x")
