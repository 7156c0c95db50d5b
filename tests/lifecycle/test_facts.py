"""A definition's own facts (states/facts.py): declared once in the definition, recorded by
its triggers, read by its guards, shown and sealed with nothing else changed.

Everything new here lives in this file: a throwaway definition ("drill") declares a fact
(`checked_on`), a trigger that records it and a guard that reads it. No model, migration,
view, template or seal is touched, and yet the fact is stored, judged, printed, put in
`--json` and the portal's document, and sealed.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from types import MappingProxyType

import pytest
from sqlalchemy import update

from scr.lifecycle.core.engine import Engine
from scr.lifecycle.views import text
from scr.lifecycle.views.documents import case_document
from scr.states import scr
from scr.states.case import CaseSnapshot, GuardContext
from scr.states.config import ProcessConfig
from scr.states.enums import Role
from scr.states.errors import Refused
from scr.states.facts import Fact, FactError, FactType, Record, check
from scr.states.params import Param, PType
from scr.states.process import ENTER, Level, ProcessDefinition, RoleRule, TimerSpec, TriggerSpec
from scr.states.registry import Registry
from scr.states.validate import DefinitionError
from scr.storage import history
from scr.storage.db import reading, transaction
from scr.storage.tables import CASES
from tests.board import BM, Board
from tests.conftest import T0

H = timedelta(hours=1)
SCR = scr.V1
CHECKED_ON = Fact("checked_on", FactType.DAY, "checked")


def no_second_check(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    day = CHECKED_ON.of(case)
    return f"the case was checked already on {day:%d %B %Y}" if day is not None else None


RECORD_CHECK = TriggerSpec(
    "record_check", "Check recorded", ("referral",), None,
    (RoleRule(Role.BUSINESS_MANAGER),), params=(Param("date", PType.DATE, not_future=True),),
    guards=("no_second_check",), effect=None, records=(Record(CHECKED_ON.name, "date"),))


def _drill(**changes: object) -> ProcessDefinition:
    """Referral, then closed; its one fact is the day the referral was checked."""
    withdraw = next(t for t in SCR.triggers if t.name == "withdraw")
    keep = ("referral", "closed")
    triage = TimerSpec("triage", "Triage of the drill referral", "referral", (ENTER,),
                       (Level("reminder", "entered", ("business_manager",)),))
    given: dict[str, object] = dict(
        name="drill", version="1", label="A drill", source="this test", states=keep,
        state_labels=MappingProxyType({s: s.title() for s in keep}),
        finals=frozenset({"closed"}),
        triggers=(RECORD_CHECK, dataclasses.replace(withdraw, sources=("referral",))),
        timers=(triage,), default_offsets=MappingProxyType({"triage.reminder": "1wd"}),
        guards=MappingProxyType({**SCR.guards, "no_second_check": no_second_check}),
        facts=(CHECKED_ON,))
    return dataclasses.replace(SCR, **{**given, **changes})  # type: ignore[arg-type]


@pytest.fixture
def drill(sqlite_db) -> Board:
    engine = Engine(ProcessConfig(start=("drill", "1")), registry=Registry(SCR, _drill()),
                    check_snapshots=True)
    board = Board(sqlite_db, engine)
    board.seed_users()
    return board


def test_a_new_fact_is_recorded_judged_shown_and_sealed(drill):
    ref = drill.refer(at=T0)
    assert drill.case(ref).facts == {}
    drill.fire(ref, "record_check", at=T0 + H, date=T0.date().isoformat())
    case = drill.case(ref)
    assert case.facts == {"checked_on": T0.date().isoformat()}
    # The guard reads it, typed.
    with pytest.raises(Refused, match=f"checked already on {T0:%d %B %Y}"):
        drill.fire(ref, "record_check", at=T0 + 2 * H, date=T0.date().isoformat())
    with reading(drill.db) as tx:
        process = drill.engine.processes.of(case)
        doc = case_document(tx, process, case, reader=drill.actor(BM))
        audit = history.verify(tx)
    # `--json` and the portal's document hold it; the printout shows it by its words.
    assert doc["facts"] == {"checked_on": T0.date().isoformat()}
    assert doc["fact_lines"] == [["checked", T0.date().isoformat()]]
    printed = text.case_text(doc, process.config.working_days)
    assert f"checked        {T0.date().isoformat()}" in printed
    # And the seal covers it: the record matches its newest row; changed behind the
    # engine's back, it does not.
    assert (audit.sealed, audit.breaks) == (1, [])
    with transaction(drill.db) as tx:
        tx.execute(update(CASES).where(CASES.c.ref == ref).values(
            facts={"checked_on": "2001-01-01"}))
    with reading(drill.db) as tx:
        [broken] = history.verify(tx).breaks
    assert broken.case_ref == ref and "changed outside its history" in broken.problem


def test_a_fact_is_checked_against_its_declaration():
    check((CHECKED_ON,), {"checked_on": "2026-12-07"})
    with pytest.raises(FactError, match="does not declare"):
        check((CHECKED_ON,), {"checked": "2026-12-07"})
    with pytest.raises(FactError, match="a day"):
        check((CHECKED_ON,), {"checked_on": "next Tuesday"})
    choice = Fact("outcome", FactType.CHOICE, "outcome", choices=("kept", "dropped"))
    with pytest.raises(FactError, match="one of kept, dropped"):
        check((choice,), {"outcome": "lost"})


def test_a_trigger_may_record_only_a_declared_fact_from_its_own_parameter():
    with pytest.raises(DefinitionError, match="records checked_on, which the definition "
                       "does not declare"):
        Registry(_drill(facts=()))
    stray = dataclasses.replace(RECORD_CHECK, records=(Record(CHECKED_ON.name, "day"),))
    with pytest.raises(DefinitionError, match="from an unknown parameter day"):
        Registry(_drill(triggers=(stray,)))
