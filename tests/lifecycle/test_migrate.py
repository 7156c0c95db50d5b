"""Moving running cases to a new version of their process (lifecycle/core/migrating.py).

The real next version of the CSPR process is being written elsewhere, so these tests build
a throwaway one: `cspr` version 99 is version 1 with other offsets for three ladders and two
states renamed, one of them mapped by its migration and one not. Cases of version 1, some
part-way through their ladders with reminders and a deadline already sent, are moved on one
database; the daemon runs on afterwards as it would.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest

from scr.lifecycle.core.engine import Engine
from scr.lifecycle.core.migrating import Migrator, Move, Stuck, fact_problems
from scr.lifecycle.core.process import Processes
from scr.lifecycle.runtime.sweep import sweep
from scr.states import scr
from scr.states.case import Actor
from scr.states.config import ProcessConfig
from scr.states.cspr import V1 as CSPR
from scr.states.migration import (
    MIGRATE_TRIGGER,
    Migration,
    MigrationError,
    find,
    shipped,
)
from scr.states.process import ProcessDefinition, TimerSpec, TriggerSpec
from scr.states.registry import REGISTRY, Registry
from scr.states.validate import DefinitionError, check
from scr.storage import history
from scr.storage.db import reading, transaction
from tests import records
from tests.board import BM, SCR_REFERRAL, Board
from tests.conftest import T0
from tests.lifecycle.test_regimes import CSPR_REFERRAL, cspr_at_decision

H = timedelta(hours=1)
RENAMED = {"sub_group": "rapid_review_meeting", "chair_decision": "partners_decision"}
# The moment the cases move: Friday 27 November 2026, noon (GMT).
MOVED_AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def renamed(definition: ProcessDefinition, names: dict[str, str]) -> ProcessDefinition:
    """`definition` with its states renamed throughout (its triggers and ladders too)."""
    def r(state: str) -> str:
        return names.get(state, state)

    def trigger(t: TriggerSpec) -> TriggerSpec:
        return dataclasses.replace(t, sources=tuple(map(r, t.sources)),
                                   dest=r(t.dest) if t.dest else None)

    def ladder(t: TimerSpec) -> TimerSpec:
        return dataclasses.replace(t, state=r(t.state), also_in=tuple(map(r, t.also_in)))

    return dataclasses.replace(
        definition, states=tuple(map(r, definition.states)),
        state_labels=MappingProxyType({r(k): v for k, v in definition.state_labels.items()}),
        initial=r(definition.initial), finals=frozenset(map(r, definition.finals)),
        create=trigger(definition.create), triggers=tuple(map(trigger, definition.triggers)),
        timers=tuple(map(ladder, definition.timers)))


def version_99() -> ProcessDefinition:
    """cspr version 1 with the notification due at 4 working days (5), the triage reminder
    at 2 (3), the rapid review's reminder and deadline at 8 and 12 (10 and 15), and the
    rapid review meeting and the partners' decision as states of those names."""
    offsets = {**CSPR.default_offsets, "notification.due": "4wd", "triage.reminder": "2wd",
               "rapid_review.reminder": "8wd", "rapid_review.due": "12wd"}
    return renamed(dataclasses.replace(CSPR, version="99",
                                       default_offsets=MappingProxyType(offsets)), RENAMED)


V99 = version_99()
# The meeting's state is mapped; the partners' decision is not: a case there cannot move.
MIGRATION = Migration("cspr", "1", "99", MappingProxyType({"sub_group": "rapid_review_meeting"}))
REGISTRY_99 = Registry(scr.V1, CSPR, V99)


@pytest.fixture
def board(sqlite_db) -> Board:
    b = Board(sqlite_db, Engine(ProcessConfig(start=("cspr", "1")), registry=REGISTRY_99,
                                check_snapshots=True))
    b.seed_users()
    return b


@pytest.fixture
def migrator(board) -> Migrator:
    processes = board.engine.processes
    return Migrator(MIGRATION, processes.get("cspr", "1"), processes.get("cspr", "99"))


def referral(aware: str, pseudonym: str) -> dict[str, Any]:
    return {**CSPR_REFERRAL, "aware_on": aware, "pseudonym": pseudonym}


def a_board_of_cases(board: Board) -> dict[str, str]:
    """Cases of cspr version 1 in several states, by what each shows:

    - mid: aware Monday 23 November; its notification and triage reminders went out on
      Thursday 26th; its notification is due on Monday 30th (version 99: Friday 27th, past
      when it moves);
    - chased: aware a week earlier; its notification deadline went out and its weekly chase
      is pending; its triage escalation went out;
    - fresh: referred on the morning it moves, aware on Tuesday 24th: its notification
      reminder (Friday 27th, 09:00) is past and never went out;
    - meeting: notified, its agencies' information in, at the rapid review meeting;
    - deciding: at the partners' decision (a state version 99 renames, unmapped);
    - withdrawn: closed; other: a Serious Case Review (scr version 1).
    """
    refs = {"mid": board.refer(referral("2026-11-23", "Child A"), at=T0)}
    refs["chased"] = board.refer(referral("2026-11-16", "Child B"), at=T0 - timedelta(days=7))
    refs["meeting"] = board.refer(referral("2026-11-23", "Child C"), at=T0 + H)
    board.fire(refs["meeting"], "record_notification", at=T0 + 2 * H, date="2026-11-23")
    board.fire(refs["meeting"], "request_information", at=T0 + 3 * H, agencies="health")
    board.fire(refs["meeting"], "record_return", by="Hal Health", at=T0 + 4 * H,
               agency="health", view="local_review", summary="seen")
    board.fire(refs["meeting"], "submit_to_sub_group", at=T0 + 5 * H)
    refs["deciding"] = cspr_at_decision(board, at=T0 + 6 * H)
    refs["withdrawn"] = board.refer(referral("2026-11-23", "Child E"), at=T0 + 20 * H)
    board.fire(refs["withdrawn"], "withdraw", at=T0 + 21 * H, reason="not a serious incident")
    scr_board = Board(board.db, Engine(ProcessConfig(start=("scr", "1")), registry=REGISTRY_99,
                                       check_snapshots=True))
    refs["other"] = scr_board.refer(SCR_REFERRAL, at=T0 + 22 * H)
    fired = sweep(board.db, board.engine, at(26, 11))
    assert {(f.case_ref, f.timer, f.outcome) for f in fired.firings} >= {
        (refs["mid"], "notification.reminder", "fired"),
        (refs["mid"], "triage.reminder", "fired"),
        (refs["chased"], "notification.due", "fired"),
        (refs["chased"], "notification.reminder", "skipped"),
        (refs["chased"], "triage.escalation", "fired")}
    refs["fresh"] = board.refer(referral("2026-11-24", "Child F"), at=at(27, 11))
    return refs


def pending(board: Board, ref: str) -> dict[str, datetime]:
    return {t.name: t.due_at for t in records.case_timers(board.db, ref, "pending")}


def as_stored(board: Board, ref: str) -> tuple[Any, list[Any], list[Any]]:
    """The case's row, every timer and every history row, as the database holds them."""
    return (board.case(ref), [tuple(t) for t in records.case_timers(board.db, ref)],
            [tuple(h) for h in records.case_history(board.db, ref)])


def move_all(board: Board, migrator: Migrator, now: datetime = MOVED_AT,
             refs: list[str] | None = None) -> dict[str, Move | Stuck]:
    actor = board.actor(BM)
    with reading(board.db) as tx:
        chosen = refs or migrator.candidates(tx)
    found = {}
    for ref in chosen:
        with transaction(board.db) as tx:
            found[ref] = migrator.move(tx, ref, actor=actor, now=now)
    return found


def test_running_cases_move_with_their_clocks_planned_again(board, migrator):
    refs = a_board_of_cases(board)
    deciding_before = as_stored(board, refs["deciding"])
    mail_before = len(records.mail(board.db))
    recommendation = {n: d for n, d in pending(board, refs["meeting"]).items()
                      if n.startswith("recommendation.")}

    moved = move_all(board, migrator)

    # Every running case of version 1, and only those: not the closed one, not the SCR.
    assert set(moved) == {refs[k] for k in ("mid", "chased", "meeting", "deciding", "fresh")}
    assert {r: type(m).__name__ for r, m in moved.items()} == {
        refs["mid"]: "Move", refs["chased"]: "Move", refs["meeting"]: "Move",
        refs["fresh"]: "Move", refs["deciding"]: "Stuck"}
    # Each timer planned again from the dates the case has, by version 99's offsets.
    assert pending(board, refs["mid"]) == {
        # 4 working days after awareness: already past, and open: pending, for the daemon.
        "notification.due": at(27, 9),
        # unchanged (5 working days after the referral); its reminder went out already
        "triage.escalation": at(30, 10)}
    assert pending(board, refs["chased"]) == {
        # the weekly chase of a deadline that went out: the next after its last firing
        "notification.due": at(30, 9)}
    assert pending(board, refs["fresh"]) == {
        # its reminder (past, never sent) is not armed: nothing goes out for it
        "notification.due": at(30, 9),
        "triage.reminder": datetime(2026, 12, 1, 11, tzinfo=UTC),
        "triage.escalation": datetime(2026, 12, 4, 11, tzinfo=UTC)}
    assert pending(board, refs["meeting"]) == {
        # 8 and 12 working days after the notification (Monday 23 November)
        "rapid_review.reminder": datetime(2026, 12, 3, 9, tzinfo=UTC),
        "rapid_review.due": datetime(2026, 12, 9, 9, tzinfo=UTC),
        **recommendation}
    left_out = {r: dict(m.left_out) for r, m in moved.items() if isinstance(m, Move)}
    assert left_out[refs["mid"]] == {"notification.reminder": "it went out already",
                                     "triage.reminder": "it went out already"}
    assert left_out[refs["fresh"]] == {"notification.reminder": "a past reminder: not sent"}
    # Each moved case is on version 99, in the mapped state, with its history row.
    for key, state in (("mid", "referral"), ("meeting", "rapid_review_meeting")):
        case = board.case(refs[key])
        assert (case.definition, case.definition_version, case.state) == ("cspr", "99", state)
        row = records.case_history(board.db, refs[key])[-1]
        assert (row.trigger, row.actor, row.dest, row.seq) == (
            MIGRATE_TRIGGER, BM, state, case.version)
        assert row.params == {"process": "cspr", "from_version": "1", "to_version": "99"}
        assert row.record_hash is not None
    assert [t.state for t in records.case_timers(board.db, refs["meeting"], "pending")] == \
        ["rapid_review_meeting"] * 4
    # The case that cannot move says why, and is exactly as it was.
    stuck = moved[refs["deciding"]]
    assert isinstance(stuck, Stuck) and stuck.reasons == (
        "its state chair_decision has no counterpart in version 99, and the migration maps "
        "it to none",)
    assert as_stored(board, refs["deciding"]) == deciding_before
    # Nothing was e-mailed by the move; the record verifies.
    assert len(records.mail(board.db)) == mail_before
    with reading(board.db) as tx:
        audit = history.verify(tx)
    assert not audit.breaks and audit.sealed == audit.cases


def test_the_daemon_says_a_past_deadline_once_and_no_past_reminder(board, migrator):
    refs = a_board_of_cases(board)
    move_all(board, migrator)
    report = sweep(board.db, board.engine, MOVED_AT + timedelta(minutes=1))
    # (The Serious Case Review's own triage reminder falls due on Friday morning too.)
    assert sorted((f.case_ref, f.timer, f.outcome) for f in report.firings
                  if f.case_ref != refs["other"]) == [(refs["mid"], "notification.due", "fired")]
    assert [r.trigger for r in records.case_history(board.db, refs["fresh"])] == [
        "refer", MIGRATE_TRIGGER]
    # Told once: its weekly chase goes on from there.
    assert pending(board, refs["mid"])["notification.due"] == datetime(2026, 12, 4, 9,
                                                                       tzinfo=UTC)
    assert sweep(board.db, board.engine, MOVED_AT + timedelta(minutes=2)).firings == []


def test_a_moved_case_runs_on_under_its_new_version(board, migrator):
    refs = a_board_of_cases(board)
    move_all(board, migrator, refs=[refs["meeting"]])
    ref = refs["meeting"]
    board.fire(ref, "record_meeting", at=MOVED_AT + H, date="2026-11-27",
               attendees="childrens_social_care,health,police")
    board.fire(ref, "recommend", by="Sol Subchair", at=MOVED_AT + 2 * H,
               recommendation="local_review", reason="agencies did not share what they knew")
    assert board.state(ref) == "partners_decision"
    assert "rapid_review.due" in pending(board, ref)  # the clock runs on across states
    with reading(board.db) as tx:
        assert not history.verify(tx).breaks


def test_a_dry_run_judges_without_writing(board, migrator):
    refs = a_board_of_cases(board)
    before = {ref: as_stored(board, ref) for ref in refs.values()}
    with reading(board.db) as tx:
        judged = {ref: migrator.judge(tx, ref, now=MOVED_AT) for ref in migrator.candidates(tx)}
    assert {name: d for name, d in
            ((t.name, t.due_at) for t in judged[refs["mid"]].timers)} == {  # type: ignore[union-attr]
        "notification.due": at(27, 9), "triage.escalation": at(30, 10)}
    assert {ref: as_stored(board, ref) for ref in refs.values()} == before


def test_a_case_whose_facts_the_new_version_does_not_declare_cannot_move(board):
    """Facts are named, never their values (a fact may be free text)."""
    processes = Processes(ProcessConfig(), REGISTRY_99)
    fewer = processes.get("scr", "1")  # declares the panel's notice only
    assert fact_problems(fewer, {"notified_on": "2026-11-23", "panel_notified_on": 3}) == [
        "its fact notified_on is not one version 1 declares",
        "its fact panel_notified_on must be a day in its stored form (text) under version 1"]
    assert fact_problems(processes.get("cspr", "99"), {"notified_on": "2026-11-23"}) == []


def test_a_migration_is_found_only_where_declared_and_sound():
    assert find((MIGRATION,), REGISTRY_99, "cspr", "1", "99")[0] is MIGRATION
    with pytest.raises(MigrationError, match="no migration is declared from cspr version 99"):
        find((MIGRATION,), REGISTRY_99, "cspr", "99", "1")
    with pytest.raises(MigrationError, match="both cspr version 1"):
        find((MIGRATION,), REGISTRY_99, "cspr", "1", "1")
    wrong = Migration("cspr", "1", "99", MappingProxyType({"sub_group": "meeting"}))
    with pytest.raises(MigrationError, match="maps sub_group to meeting, which is no state"):
        find((wrong,), REGISTRY_99, "cspr", "1", "99")


def test_every_shipped_migration_is_sound():
    for migration in shipped():
        find(shipped(), REGISTRY, *migration.key)


def test_no_definition_may_declare_the_reserved_trigger():
    named = dataclasses.replace(CSPR.triggers[0], name=MIGRATE_TRIGGER)
    reserved = dataclasses.replace(CSPR, version="98", triggers=(*CSPR.triggers, named))
    with pytest.raises(DefinitionError, match="migrate: the name is reserved"):
        check(reserved)


def test_the_history_row_is_named_in_words_by_every_view(board, migrator):
    from scr.lifecycle.views.timeline import events
    from scr.states import words

    refs = a_board_of_cases(board)
    move_all(board, migrator, refs=[refs["mid"]])
    assert words.trigger_label(V99, MIGRATE_TRIGGER) == "Moved to another version of its process"
    with reading(board.db) as tx:
        from scr.storage import cases

        case = cases.load(tx, refs["mid"])
        found = events(tx, board.engine.processes.of(case), case, now=MOVED_AT + H,
                       cal=board.engine.config.working_days)
    assert any(e.title == MIGRATE_TRIGGER for e in found)


def test_the_actor_recorded_is_who_moved_it(board, migrator):
    refs = a_board_of_cases(board)
    behalf = Actor(BM, frozenset({"business_manager"}), recorded_by="Ivy Chair")
    with transaction(board.db) as tx:
        migrator.move(tx, refs["mid"], actor=behalf, now=MOVED_AT)
    row = records.case_history(board.db, refs["mid"])[-1]
    assert (row.actor, row.recorded_by) == (BM, "Ivy Chair")


def test_the_log_names_each_case_by_reference_and_pseudonym_only(board, migrator):
    import io
    import json
    import logging

    from scr.lifecycle import log

    refs = a_board_of_cases(board)
    stream = io.StringIO()
    log.configure(json=True, level=logging.INFO, stream=stream)
    try:
        move_all(board, migrator, refs=[refs["meeting"]])
    finally:
        log.configure(level=logging.WARNING)
    [event] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert (event["event"], event["case_ref"], event["pseudonym"], event["dest"]) == (
        "case.migrated", refs["meeting"], "Child C", "rapid_review_meeting")
    assert "free text" not in stream.getvalue()  # the referral's summary
