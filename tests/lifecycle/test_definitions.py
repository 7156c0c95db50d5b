"""Process definitions side by side: each case runs under the definition it started under.

A throwaway second definition ("drill", a short process made as data from the same
vocabulary) is registered beside the SCR process; cases of each are referred, fired and
swept on one database, each by its own rules, timers and machine.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from types import MappingProxyType

import pytest

from scr.lifecycle.core import effects
from scr.lifecycle.core.engine import Engine
from scr.lifecycle.core.machine import MachineError, ProcessMachine, build
from scr.lifecycle.runtime.sweep import sweep
from scr.states import scr
from scr.states.config import ProcessConfig
from scr.states.enums import State
from scr.states.errors import NotFound, Refused
from scr.states.process import ENTER, Level, ProcessDefinition, TimerSpec, TriggerSpec
from scr.states.registry import REGISTRY, Registry, UnknownDefinition
from scr.storage.db import reading, transaction
from tests import records
from tests.board import BM, HEALTH, Board
from tests.conftest import T0

H = timedelta(hours=1)
SCR = scr.V1


def _drill() -> ProcessDefinition:
    """Referral, then information from agencies, then closed: three states, the SCR's
    vocabulary, a triage reminder after one working day instead of three."""
    by = {t.name: t for t in SCR.triggers}
    keep = ("referral", "information_request", "closed")
    triggers = (
        by["request_information"],
        dataclasses.replace(by["withdraw"], sources=("referral", "information_request")),
        by["record_return"],
    )
    triage = TimerSpec("triage", "Triage of the drill referral", "referral", (ENTER,),
                       (Level("reminder", "entered", ("business_manager",)),))
    return dataclasses.replace(
        SCR, name="drill", version="1", label="A drill", source="this test",
        states=keep, state_labels=MappingProxyType({s: s.title() for s in keep}),
        finals=frozenset({"closed"}), triggers=triggers, timers=(triage,),
        default_offsets=MappingProxyType({"triage.reminder": "1wd", "returns.due": "2wd",
                                          "notice_period": "7wd"}))


@pytest.fixture
def two(sqlite_db) -> tuple[Board, Board]:
    """One database; a board whose new cases start under scr, one under drill."""
    registry = Registry(SCR, _drill())
    scr_board = Board(sqlite_db, Engine(ProcessConfig(start=("scr", "1")), registry=registry,
                                        check_snapshots=True))
    scr_board.seed_users()
    drill = Engine(ProcessConfig(start=("drill", "1")), registry=registry, check_snapshots=True)
    return scr_board, Board(sqlite_db, drill)


def test_each_case_stores_the_definition_it_started_under(two):
    scr_board, drill_board = two
    a, b = scr_board.refer(at=T0), drill_board.refer(at=T0)
    assert (scr_board.case(a).definition, drill_board.case(b).definition) == ("scr", "drill")
    # Either engine runs either case by the case's own definition.
    assert scr_board.case(b).definition_version == "1"


def test_each_case_arms_its_own_definitions_timers(two):
    """The drill's triage reminder is due one working day on, the SCR's three."""
    scr_board, drill_board = two
    a, b = scr_board.refer(at=T0), drill_board.refer(at=T0)
    due = {ref: {t.name: t.due_at for t in records.case_timers(scr_board.db, ref)}
           for ref in (a, b)}
    assert due[a]["triage.reminder"] == T0 + timedelta(days=3)  # Monday to Thursday
    assert due[b] == {"triage.reminder": T0 + timedelta(days=1)}


def test_each_case_moves_by_its_own_machine(two):
    """The same trigger names lead where each definition says; a trigger the drill does
    not have is unknown on a drill case, whichever engine fires it."""
    scr_board, drill_board = two
    a, b = scr_board.refer(at=T0), drill_board.refer(at=T0)
    for board, ref in ((scr_board, a), (scr_board, b)):
        board.fire(ref, "request_information", at=T0 + H, agencies="health")
        board.fire(ref, "record_return", at=T0 + 2 * H, by=HEALTH, agency="health",
                   view="scr", summary="seen")
    scr_board.fire(a, "submit_to_sub_group", at=T0 + 3 * H)
    assert scr_board.state(a) == State.SUB_GROUP
    with pytest.raises(NotFound, match="unknown trigger 'submit_to_sub_group'"):
        drill_board.fire(b, "submit_to_sub_group", at=T0 + 3 * H)
    with pytest.raises(Refused, match="does not apply"):
        drill_board.fire(b, "request_information", at=T0 + 3 * H, agencies="police")
    drill_board.fire(b, "withdraw", at=T0 + 4 * H, reason="a drill")
    assert drill_board.state(b) == "closed"


def test_the_judge_lists_each_cases_own_triggers(two):
    scr_board, drill_board = two
    a, b = scr_board.refer(at=T0), drill_board.refer(at=T0)
    with reading(scr_board.db) as tx:
        listed = {ref: [j.trigger for j in scr_board.engine.verdicts(
            tx, ref, actor=scr_board.actor(BM), now=T0 + H)[2]] for ref in (a, b)}
    assert listed[b] == ["request_information", "withdraw"]
    assert listed[a][:2] == ["request_information", "withdraw"] and "amend_referral" in listed[a]


def test_one_sweep_fires_each_case_by_its_own_ladder(two):
    """Two working days on, the drill's reminder has fired and the SCR's has not."""
    scr_board, drill_board = two
    a, b = scr_board.refer(at=T0), drill_board.refer(at=T0)
    report = sweep(scr_board.db, scr_board.engine, T0 + timedelta(days=2))
    assert [(f.case_ref, f.timer, f.outcome) for f in report.firings] == \
        [(b, "triage.reminder", "fired")]
    assert [t.status for t in records.case_timers(scr_board.db, a)] == ["pending", "pending"]


def test_a_case_of_a_definition_this_code_lacks_is_refused_clearly(two, sqlite_db):
    """An engine without the drill definition will not guess: exit 2, naming it."""
    _, drill_board = two
    ref = drill_board.refer(at=T0)
    plain = Board(sqlite_db, Engine(ProcessConfig(start=("scr", "1")), check_snapshots=True))
    with pytest.raises(UnknownDefinition, match="no process definition drill version 1"):
        plain.fire(ref, "withdraw", at=T0 + H, reason="x")


def test_a_trigger_naming_no_effect_fails_when_its_machine_is_built():
    misspelt = dataclasses.replace(SCR, version="2", triggers=tuple(
        dataclasses.replace(t, effect="recomend") if t.name == "recommend" else t
        for t in SCR.triggers))
    with pytest.raises(MachineError, match="no effect 'recomend'"):
        ProcessMachine(misspelt)


def test_an_effect_no_trigger_names_fails_the_build(monkeypatch):
    monkeypatch.setitem(effects.EFFECTS, "record_meetin", lambda firing: None)
    with pytest.raises(MachineError, match="effects registered for no trigger: record_meetin"):
        build(REGISTRY)


def test_the_machine_will_not_move_without_the_judges_verdict(two):
    """A firing nobody judged allowed does not move the case, even through the machine."""
    from scr.lifecycle.core.firing import Firing
    from scr.storage import cases

    scr_board, _ = two
    ref = scr_board.refer(at=T0)
    machine = scr_board.engine.processes.get("scr", "1").machine
    with transaction(scr_board.db) as tx:
        case = cases.load(tx, ref)
        firing = Firing(SCR, SCR.trigger("withdraw"), tx, case, cases.snapshot(tx, case),
                        {}, "x", scr_board.actor(BM), T0 + H, ProcessConfig().bind(SCR))
        with pytest.raises(MachineError, match="not judged allowed"):
            machine.run(firing)


def test_a_definition_derives_its_daemon_trigger_from_its_timers():
    """The drill is made of values only; its `timer` trigger applies exactly in the states
    that arm timers, after the triggers it declares."""
    drill = _drill()
    assert isinstance(drill.create, TriggerSpec) and drill.timer_trigger.sources == ("referral",)
    assert [t.name for t in drill.all_triggers] == ["request_information", "withdraw",
                                                    "record_return", "timer"]
