"""`scr why`: whether a trigger may be fired now, with the role, every guard (input guards
judged on the input given), each parameter and, at decisions, the SCR criteria."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scr.states.enums import State
from tests.board import BELOW_THRESHOLD, BM, CHAIR, HEALTH, SUBCHAIR
from tests.conftest import T0
from tests.lifecycle.views_cli import InProcess

AT = (T0 + timedelta(days=1)).isoformat()


@pytest.fixture
def scr(monkeypatch, capsys, sqlite_url) -> InProcess:
    return InProcess(monkeypatch, capsys, sqlite_url)


def test_withdraw_without_a_reason_is_refused_and_with_one_allowed(board, scr):
    """The reason guard fails without --reason and holds with one; the verdict follows."""
    ref = board.refer(at=T0)
    refused = scr.ok("--as", BM, "--now", AT, "why", ref, "withdraw", "--json").json()
    assert refused["allowed"] is False
    assert refused["guards"] == [{"guard": "reason_given", "reads_input": True,
                                  "holds": False,
                                  "reason": "a reason must be given (--reason)"}]
    assert refused["reasons"] == ["a reason must be given (--reason)"]
    assert refused["role"]["ok"] is True and refused["dest"] == "closed"
    allowed = scr.ok("--as", BM, "--now", AT, "why", ref, "withdraw", "--reason",
                     "duplicate", "--json").json()
    assert allowed["allowed"] is True and allowed["reasons"] == []
    assert board.state(ref) == "referral"  # why writes nothing


def test_role_check_names_the_roles_needed(board, scr):
    """A chair asking about a business manager's trigger is told the role is missing."""
    ref = board.refer(at=T0)
    doc = scr.ok("--as", CHAIR, "--now", AT, "why", ref, "withdraw", "--reason", "x",
                 "--json").json()
    assert doc["allowed"] is False
    assert doc["role"] == {"judged": True, "ok": False, "roles": ["business_manager"],
                           "reason": "Ivy Chair may not fire withdraw: it needs "
                           "business_manager", "actor_roles": ["chair"],
                           "scope_judged": True}


def test_without_an_actor_the_role_is_not_judged(board, scr):
    """With no --as the guards are judged and the text says the role was not checked."""
    ref = board.refer(at=T0)
    result = scr.ok("--now", AT, "why", ref, "withdraw", "--reason", "duplicate")
    assert "verdict    allowed (the role is not checked" in result.out
    assert "role       business_manager\n" in result.out


def test_input_guards_are_judged_on_the_parameters_given(board, scr):
    """A bad agency and a missing one are reported per parameter; a good one holds."""
    ref = board.refer(at=T0)
    bad = scr.ok("--as", BM, "--now", AT, "why", ref, "request_information",
                 "agencies=health,fire_brigade", "--json").json()
    assert bad["allowed"] is False
    assert bad["params"][0]["param"] == "agencies" and bad["params"][0]["ok"] is False
    assert "unknown value 'fire_brigade'" in bad["params"][0]["reason"]
    good = scr.ok("--as", BM, "--now", AT, "why", ref, "request_information",
                  "agencies=health,police", "urgent=yes", "--json").json()
    assert good["allowed"] is True
    assert [(p["param"], p["value"]) for p in good["params"]] == [
        ("agencies", "health,police"), ("urgent", "true")]
    assert good["guards"] == [{"guard": "agencies_named", "reads_input": True,
                               "holds": True, "reason": None}]


def test_agency_lead_scope_is_judged_on_the_agency_named(board, scr):
    """Health's lead may record health's return but not police's; the summary is not echoed."""
    ref = board.refer(at=T0)
    board.walk(ref, State.INFORMATION_REQUEST, at=T0)
    own = scr.ok("--as", HEALTH, "--now", AT, "why", ref, "record_return", "agency=health",
                 "view=scr", "summary=very private words", "--json")
    assert own.json()["allowed"] is True
    assert "very private words" not in own.out
    other = scr.ok("--as", HEALTH, "--now", AT, "why", ref, "record_return", "agency=police",
                   "view=scr", "summary=x", "--json").json()
    assert other["allowed"] is False
    assert "agency_lead (of that agency)" in other["role"]["reason"]


def test_chair_decision_shows_the_criteria_assessment(board, scr):
    """At the chair's decision the criteria are shown; below them an SCR needs a rationale."""
    ref = board.refer(BELOW_THRESHOLD, at=T0)
    at = board.walk(ref, State.CHAIR_DECISION, at=T0, scr=False) + timedelta(hours=1)
    result = scr.ok("--as", CHAIR, "--now", at.isoformat(), "why", ref, "commission_scr",
                    "methodology=scie_systems", "lead_reviewer=Lee Reviewer")
    assert "criteria   SCR criteria not met;" in result.out
    assert "rationale_if_criteria_not_met     fails: the SCR criteria are not met" in result.out
    assert "verdict    refused" in result.out
    doc = scr.ok("--as", CHAIR, "--now", at.isoformat(), "why", ref, "decide_no_review",
                 "--reason", "learning captured elsewhere", "--json").json()
    assert doc["allowed"] is True
    assert doc["criteria"]["met"] is False


def test_recommend_needs_a_quorate_meeting(board, scr):
    """In sub_group without a meeting, recommend fails its quorum guard, with criteria shown."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.SUB_GROUP, at=T0) + timedelta(hours=1)
    doc = scr.ok("--as", SUBCHAIR, "--now", at.isoformat(), "why", ref, "recommend",
                 "recommendation=scr", "--reason", "criteria met", "--json").json()
    assert [g["guard"] for g in doc["guards"] if not g["holds"]] == ["quorate_meeting_recorded"]
    assert doc["criteria"]["met"] is True


def test_trigger_that_does_not_apply_in_the_state(board, scr):
    """publish on a fresh referral does not apply, and says in which states it does."""
    ref = board.refer(at=T0)
    doc = scr.ok("--as", BM, "--now", AT, "why", ref, "publish", "--json").json()
    assert doc["applies"] is False and doc["allowed"] is False
    assert doc["reasons"][0] == ("publish does not apply in state referral (it applies in "
                                 "publication_hold)")


def test_check_exits_3_when_refused_and_errors_are_one_line(board, scr):
    """--check makes a refusal exit 3; unknown trigger or case is bad input, exit 2."""
    ref = board.refer(at=T0)
    refused = scr("--as", BM, "--now", AT, "why", ref, "withdraw", "--check")
    assert refused.code == 3 and refused.out == ""
    assert refused.err.startswith("error: withdraw is not allowed on") and \
        refused.err.count("\n") == 1
    assert scr("--as", BM, "--now", AT, "why", ref, "withdraw", "--check", "--reason",
               "x").code == 0
    unknown = scr("--now", AT, "why", ref, "launch_rocket")
    assert unknown.code == 2 and unknown.err.startswith("error: unknown trigger")
    assert scr("--now", AT, "why", "CR-1999-0001", "withdraw").code == 2
    assert scr("--now", AT, "why", ref, "withdraw", "notakeyvalue").code == 2
