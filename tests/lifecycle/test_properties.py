"""Property tests: random trigger sequences, by random people at random moments, keep
every case valid; the history replays to the current state; final states absorb."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scr.states.enums import FINAL_STATES, State
from scr.states.errors import LifecycleError
from scr.states.scr.v1 import DEFINITION
from tests import records
from tests.board import BELOW_THRESHOLD, QUORUM, REVIEWER, SCR_REFERRAL, USERS
from tests.conftest import T0

ALL_TRIGGERS = (DEFINITION.create, *DEFINITION.all_triggers)
TRIGGER_BY_NAME = {t.name: t for t in ALL_TRIGGERS}

NAMES = [u[0] for u in USERS] + ["system"]
ROLE_HOLDER = {roles[0]: name for name, _, roles, _ in USERS}


def menu(trigger: str, day: str) -> list[dict]:
    """A few plausible parameter sets per trigger, good and bad."""
    options = {
        "request_information": [{"agencies": QUORUM}, {"agencies": "health"}, {"agencies": ""}],
        "add_agency": [{"agency": "education"}, {"agency": "health"}],
        "record_return": [{"agency": a, "view": v, "summary": "s"}
                          for a in ("childrens_social_care", "health", "police", "education")
                          for v in ("scr", "no_review")],
        "submit_to_sub_group": [{}, {"meeting_date": day}],
        "record_meeting": [{"date": day, "attendees": QUORUM}, {"date": day,
                                                                 "attendees": "health"}],
        "request_more_information": [{"agencies": "education"}],
        "recommend": [{"recommendation": "scr"}, {"recommendation": "no_review"}],
        "commission_scr": [{"methodology": "scie_systems", "lead_reviewer": REVIEWER}],
        "commission_case_review": [{"methodology": "hot_debrief", "lead_reviewer": REVIEWER}],
        "record_milestone": [{"milestone": "event"}],
        "complete_review": [{"report": "Report"}, {"report": ""}],
        "record_proceedings": [{"criminal": "pending"}, {"criminal": "concluded"}],
        "record_output": [{"output": o} for o in ("overview_report", "board_response",
                                                  "briefing")],
        "schedule_publication": [{"date": day}],
        "add_action": [{"agency": "health", "description": "d", "owner": "o", "due": day}],
        "complete_action": [{"action": "1", "evidence": "e"}],
        "sign_off_action": [{"action": "1"}],
        "record_panel_notice": [{"date": day}],
        "amend_referral": [{"harm": "other"}, {"abuse": "known"}],
        "timer": [{"timer": "triage", "level": "reminder"}],
    }
    return options.get(trigger, [{}])


def likely_actor(trigger: str) -> str:
    spec = TRIGGER_BY_NAME[trigger]
    role = spec.roles[0].role
    if role == "agency_lead":
        return "Hal Health"
    return "system" if role == "system" else ROLE_HOLDER[role]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), below=st.booleans())
def test_random_sequences_keep_cases_valid(shared_board, data, below):
    """Whatever is fired, by whomever, whenever: the case stays in a valid state, every
    refusal writes nothing, the history replays to the state, final states absorb."""
    board = shared_board
    now = T0
    ref = board.refer(BELOW_THRESHOLD if below else SCR_REFERRAL, at=now)
    state, version, seq = State.REFERRAL, 1, 1
    for _ in range(data.draw(st.integers(5, 40), label="steps")):
        now += timedelta(hours=data.draw(st.integers(0, 24 * 12), label="hours"))
        applicable = [t.name for t in ALL_TRIGGERS if state in t.sources]
        pool = applicable if applicable and data.draw(st.booleans(), label="apt") else \
            [t.name for t in ALL_TRIGGERS if t.name != "refer"]
        trigger = data.draw(st.sampled_from(pool), label="trigger")
        params = data.draw(st.sampled_from(menu(trigger, now.date().isoformat())),
                           label="params")
        by = likely_actor(trigger) if data.draw(st.booleans(), label="right person") else \
            data.draw(st.sampled_from(NAMES), label="anyone")
        reason = data.draw(st.sampled_from([None, "because"]), label="reason")
        try:
            case = board.fire(ref, trigger, at=now, by=by, reason=reason, **params)
        except LifecycleError:
            case = board.case(ref)
            assert (case.state, case.version) == (state, version), "a refusal wrote"
            continue
        spec = TRIGGER_BY_NAME[trigger]
        assert state in spec.sources
        assert case.state == (spec.dest or state)
        assert state not in FINAL_STATES or case.state == state, "a final state was left"
        state, version, seq = State(case.state), case.version, seq + 1
        assert version == seq

    rows = records.case_history(board.db, ref)
    assert [r.seq for r in rows] == list(range(1, seq + 1))
    replayed = None
    for row in rows:
        assert row.source == replayed
        spec = TRIGGER_BY_NAME[row.trigger]
        assert row.dest == (spec.dest.value if spec.dest else row.source)
        replayed = row.dest
    assert replayed == state
