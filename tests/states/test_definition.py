"""The SCR process definition (scr, version 1) matches the board's table of triggers, and a
definition is validated when it is registered."""

from __future__ import annotations

import dataclasses

import pytest

from scr.states import validate
from scr.states.enums import FINAL_STATES, State
from scr.states.guards import GUARDS
from scr.states.registry import REGISTRY, Registry
from scr.states.scr.v1 import DEFINITION, TIMERS, TRIGGERS

ALL_TRIGGERS = DEFINITION.all_triggers
TRIGGER_BY_NAME = {t.name: t for t in ALL_TRIGGERS}


# The triggers a definition gains rather than declares: the daemon's, and the impact checks.
DERIVED = ("timer", "record_audit", "record_training")


def problems(triggers=ALL_TRIGGERS, timers=TIMERS) -> list[str]:
    """The problems of the SCR definition with these triggers and timers instead."""
    person = tuple(t for t in triggers if t.name not in DERIVED)
    return validate.problems(dataclasses.replace(DEFINITION, triggers=person, timers=timers))


# The board's table of triggers, written out independently of states/scr/v1.py.
TRIGGER_TABLE = {
    "request_information": ({"referral"}, "information_request", {"business_manager"}),
    "withdraw": ({"referral", "information_request"}, "closed", {"business_manager"}),
    "add_agency": ({"information_request"}, None, {"business_manager"}),
    "record_return": ({"information_request"}, None, {"agency_lead", "business_manager"}),
    "submit_to_sub_group": ({"information_request"}, "sub_group", {"business_manager"}),
    "record_meeting": ({"sub_group"}, None, {"business_manager", "subgroup_chair"}),
    "request_more_information": ({"sub_group"}, "information_request", {"subgroup_chair"}),
    "recommend": ({"sub_group"}, "chair_decision", {"subgroup_chair"}),
    "commission_scr": ({"chair_decision"}, "review", {"chair"}),
    "commission_case_review": ({"chair_decision"}, "review", {"chair"}),
    "decide_no_review": ({"chair_decision"}, "closed", {"chair"}),
    "refer_back": ({"chair_decision"}, "sub_group", {"chair"}),
    "record_milestone": ({"review"}, None, {"lead_reviewer", "business_manager"}),
    "complete_review": ({"review"}, "publication_hold", {"business_manager", "lead_reviewer"}),
    "record_proceedings": ({"publication_hold"}, None, {"business_manager"}),
    "record_output": ({"publication_hold"}, None, {"business_manager"}),
    "send_prepublication_notice": ({"publication_hold"}, None, {"business_manager"}),
    "schedule_publication": ({"publication_hold"}, None, {"business_manager"}),
    "publish": ({"publication_hold"}, "published", {"business_manager"}),
    "add_action": ({"published"}, None, {"business_manager", "subgroup_chair"}),
    "complete_action": ({"published"}, None, {"agency_lead", "business_manager"}),
    "sign_off_action": ({"published"}, None, {"subgroup_chair"}),
    "sign_off_actions": ({"published"}, "actions_signed_off", {"subgroup_chair", "chair"}),
    "record_panel_notice": ({"review", "closed"}, None, {"business_manager"}),
}


@pytest.mark.parametrize("name", sorted(TRIGGER_TABLE))
def test_trigger_matches_spec_table(name):
    """Each trigger of the board's table has the table's sources, destination and roles."""
    sources, dest, roles = TRIGGER_TABLE[name]
    spec = TRIGGER_BY_NAME[name]
    assert set(spec.sources) == sources
    assert spec.dest == dest
    assert {r.role.value for r in spec.roles if r.role != "system"} == roles


def test_timed_triggers_are_the_two_of_the_spec():
    """Only submit_to_sub_group and publish may be fired by the daemon as transitions."""
    assert {t.name for t in TRIGGERS if t.timed} == {"submit_to_sub_group", "publish"}


def test_the_definition_as_it_stands_has_no_problem():
    assert problems() == []


def test_what_a_record_opens_with_is_checked():
    """A process for referrals needs its criteria and the referral's fields; the learning
    register's creating trigger needs the fields of its record; no process without criteria
    may show them with a decision; and nothing else may be opened."""
    from scr.states.learning import V1 as LEARNING

    assert validate.problems(dataclasses.replace(DEFINITION, version="98", criteria=None)) \
        == ["a process for referrals needs its criteria",
            "refer: shows criteria, but the process has none",
            *(f"{t.name}: shows criteria, but the process has none"
              for t in DEFINITION.triggers if t.criteria)]
    no_title = dataclasses.replace(LEARNING.create, params=tuple(
        p for p in LEARNING.create.params if p.name != "title"))
    assert validate.problems(dataclasses.replace(LEARNING, version="98", create=no_title)) == [
        "register_review: a record that opens with a learning needs the parameter title"]
    decided = dataclasses.replace(LEARNING.create, criteria=True)
    assert validate.problems(dataclasses.replace(LEARNING, version="98", create=decided)) == [
        "register_review: shows criteria, but the process has none"]
    assert validate.problems(dataclasses.replace(LEARNING, version="98", opens="rumour")) == [
        "opens 'rumour': not one of referral, learning"]


def test_every_definition_has_the_impact_checks_where_its_actions_are_tracked():
    """An audit or training is recorded where actions are added and once they are signed
    off, in every definition, the oldest included."""
    for d in REGISTRY:
        add, done = d.trigger("add_action"), d.trigger("sign_off_actions")
        assert add is not None and done is not None and done.dest is not None
        for name in ("record_audit", "record_training"):
            spec = d.trigger(name)
            assert spec is not None and spec.internal, (d.key, name)
            assert set(spec.sources) == {*add.sources, done.dest}, (d.key, name)


def test_loaded_definition_is_sound():
    """Every shipped definition has no problem at all."""
    assert [d.key for d in REGISTRY] == [("cspr", "1"), ("cspr", "2"), ("learning", "1"),
                                         ("scr", "1"), ("scr", "2")]
    assert all(validate.problems(d) == [] for d in REGISTRY)


def test_an_unsound_definition_is_not_registered():
    """Registering a definition with a problem raises, naming it; a taken name and version
    is refused too."""
    broken = dataclasses.replace(DEFINITION, version="99", triggers=tuple(
        dataclasses.replace(t, guards=("no_such_guard",)) if t.name == "publish" else t
        for t in TRIGGERS))
    with pytest.raises(validate.DefinitionError, match="publish: unknown guard no_such_guard"):
        Registry(broken)
    with pytest.raises(ValueError, match="registered already"):
        Registry(DEFINITION, DEFINITION)


def test_trap_state_is_caught():
    """A state from which no final state can be reached is reported."""
    broken = tuple(dataclasses.replace(t, sources=()) if t.name == "withdraw" else t
                   for t in ALL_TRIGGERS)
    broken = tuple(t for t in broken if t.name not in ("request_information",))
    found = problems(broken, TIMERS)
    assert any("referral is a trap" in p for p in found), found


def test_unreachable_state_and_unknown_guard_are_caught():
    """An unreachable state and a guard that does not exist are both reported."""
    broken = tuple(
        dataclasses.replace(t, guards=(*t.guards, "no_such_guard")) if t.name == "recommend"
        else t
        for t in ALL_TRIGGERS if t.name != "complete_review"
    )
    found = problems(broken, TIMERS)
    assert "recommend: unknown guard no_such_guard" in found
    assert "state publication_hold is not reachable" in found


def test_final_state_with_a_way_out_is_caught():
    """A final state absorbs: a transition out of it is reported unless a guard on the
    case holds it back (a reason alone, an input guard, does not)."""
    broken = tuple(dataclasses.replace(t, sources=(*t.sources, State.CLOSED))
                   if t.name == "refer_back" else t for t in ALL_TRIGGERS)
    assert ("final state closed has a transition out (refer_back) no guard on the case "
            "holds back") in problems(broken, TIMERS)
    guarded = tuple(dataclasses.replace(t, sources=(*t.sources, State.CLOSED),
                                        guards=(*t.guards, "criteria_not_met"))
                    if t.name == "refer_back" else t for t in ALL_TRIGGERS)
    assert not [p for p in problems(guarded, TIMERS) if "transition out" in p]


def test_timer_naming_an_unknown_trigger_is_caught():
    """A timer armed by a trigger that does not exist is reported."""
    timers = tuple(dataclasses.replace(t, arm_on=("nonsense",)) if t.ladder == "triage" else t
                   for t in TIMERS)
    assert "timer triage: unknown trigger nonsense" in problems(ALL_TRIGGERS, timers)


def test_every_guard_is_used_and_every_final_state_is_entered():
    """No guard is dead code (each is used by some shipped definition), and both final
    states are destinations."""
    used = {g for d in REGISTRY for t in d.all_triggers for g in t.guards}
    assert used == {g for d in REGISTRY for g in d.guards}
    assert set(GUARDS) <= used and set(DEFINITION.guards) == set(GUARDS)
    assert {t.dest for t in ALL_TRIGGERS if t.dest} >= FINAL_STATES
