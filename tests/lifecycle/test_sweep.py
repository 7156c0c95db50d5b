"""The timer sweep: each level of a ladder fires once, at its moment, to its people; stale
timers are marked, not fired; timed transitions fire through the engine as the system; the
claim and the firing commit together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from scr.lifecycle.core.engine import Engine
from scr.lifecycle.runtime.delivery import composed
from scr.lifecycle.runtime.sweep import _due, next_due
from scr.states.config import ProcessConfig
from scr.states.enums import State
from scr.states.errors import Refused
from scr.storage.models import History, Outbox, Timer
from tests import records
from tests.board import BELOW_THRESHOLD, CHAIR, CSC, HEALTH, SCR_REFERRAL, SUBCHAIR, Board
from tests.conftest import T0
from tests.lifecycle.sweeping import (
    by_name,
    fired_names,
    firings,
    history,
    sweep_at,
    timers,
)


@pytest.fixture
def board(any_board):
    """Part of the contract suite: every test here runs on SQLite and on PostgreSQL."""
    return any_board

S = timedelta(seconds=1)
H = timedelta(hours=1)
BM_MAIL, CHAIR_MAIL = "bm@board.test", "chair@board.test"


def test_triage_ladder_fires_each_level_once_at_its_moment(board):
    """The reminder fires at its due moment to the business manager, the escalation at its
    own to the chair too; neither fires early or twice."""
    ref = board.refer(at=T0)
    due = {t.name: t.due_at for t in timers(board, ref)}
    assert fired_names(sweep_at(board, due["triage.reminder"] - S)) == []
    assert fired_names(sweep_at(board, due["triage.reminder"])) == ["triage.reminder"]
    assert fired_names(sweep_at(board, due["triage.reminder"] + H)) == []
    assert fired_names(sweep_at(board, due["triage.escalation"] - S)) == []
    assert fired_names(sweep_at(board, due["triage.escalation"])) == ["triage.escalation"]
    assert fired_names(sweep_at(board, due["triage.escalation"] + 30 * H)) == []
    reminder, escalation = firings(board, ref)
    assert reminder.row.params == {"timer": "triage", "level": "reminder"}
    assert reminder.recipients == {BM_MAIL}
    assert escalation.recipients == {BM_MAIL, CHAIR_MAIL}
    assert all("Triage of the referral: escalation" in m.subject for m in escalation.mail)
    assert (reminder.row.actor, reminder.row.due_at) == ("system", due["triage.reminder"])
    assert {t.name: t.status for t in timers(board, ref)} == {
        "triage.reminder": "fired", "triage.escalation": "fired"}


def test_completion_ladder_through_every_level_and_its_recurrence(board):
    """Reminder (lead reviewer, business manager), due (and the chair), then overdue every
    month (chair, business manager), each occurrence armed when the last one fires."""
    ref = board.refer(at=T0)
    board.walk(ref, State.REVIEW, at=T0)
    due = {t.name: t.due_at for t in timers(board, ref, "pending")}
    for name in ("completion.reminder", "completion.due", "completion.overdue"):
        assert fired_names(sweep_at(board, due[name] - S)) == []
        assert fired_names(sweep_at(board, due[name])) == [name]
    nxt = by_name(timers(board, ref, "pending"))["completion.overdue"]
    local = board.engine.config.working_days.local
    assert local(nxt.due_at).date().month == local(due["completion.overdue"]).date().month + 1
    assert nxt.sequence == 1 and "every" not in nxt.rule and "1 month after" in nxt.rule
    assert fired_names(sweep_at(board, nxt.due_at)) == ["completion.overdue"]
    reviewer = "reviewer@board.test"
    assert [f.recipients for f in firings(board, ref)] == [
        {reviewer, BM_MAIL}, {CHAIR_MAIL, reviewer, BM_MAIL}, {CHAIR_MAIL, BM_MAIL},
        {CHAIR_MAIL, BM_MAIL}]
    assert len(timers(board, ref, "pending")) == 1  # the overdue after that


def test_returns_ladder_reminds_only_outstanding_agencies_and_never_twice(board):
    """The returns reminder goes to the leads still owing a return; a return recorded after
    it does not bring it back; the overdue escalation goes to whoever still owes one."""
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H,
               agencies="childrens_social_care,health,police")
    board.fire(ref, "record_return", at=T0 + 2 * H, by=CSC, agency="childrens_social_care",
               view="scr", summary="seen")
    due = {t.name: t.due_at for t in timers(board, ref, "pending")}
    assert fired_names(sweep_at(board, due["returns.reminder"])) == ["returns.reminder"]
    board.fire(ref, "record_return", at=due["returns.reminder"] + H, by=HEALTH,
               agency="health", view="scr", summary="seen")
    assert fired_names(sweep_at(board, due["returns.reminder"] + 2 * H)) == []
    assert fired_names(sweep_at(board, due["returns.overdue"])) == ["returns.overdue"]
    reminder, overdue = firings(board, ref)
    assert reminder.recipients == {BM_MAIL, "health@board.test", "police@board.test"}
    assert overdue.recipients == {BM_MAIL, "police@board.test"}


def test_leaving_the_state_means_its_timers_never_fire(board):
    """Triage timers disarmed by request_information stay silent long after they were due."""
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health")
    report = sweep_at(board, T0 + timedelta(days=10, hours=2))  # Thu 3 Dec, 12:00
    assert fired_names(report) == ["returns.reminder"]
    assert by_name(timers(board, ref))["triage.escalation"].status == "disarmed"


@pytest.mark.parametrize(("state", "armed_before_entry"), [
    ("referral", False),  # armed for a state the case has left
    ("information_request", True),  # armed in an earlier stay in the case's state
])
def test_stale_timer_is_marked_and_nothing_else(board, state, armed_before_entry):
    """A pending timer that no longer matches the case's stay is marked stale: no history
    row, no e-mail, the case untouched."""
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + 2 * H, agencies="health")
    case = board.case(ref)
    with records.orm(board.db) as s:
        s.add(Timer(case_id=case.id, ladder="triage", level="reminder", name="triage.reminder",
                    state=state, due_at=T0 + 3 * H, rule="left behind", status="pending",
                    armed_at=T0 + (H if armed_before_entry else 2 * H)))
    before = (len(history(board, ref)), board.case(ref).version, _count(board, Outbox))
    report = sweep_at(board, T0 + 4 * H)
    assert [(f.timer, f.outcome) for f in report.firings] == [("triage.reminder", "stale")]
    assert (len(history(board, ref)), board.case(ref).version, _count(board, Outbox)) == before
    stale = [t for t in timers(board, ref) if t.rule == "left behind"]
    assert [(t.status, t.fired_at) for t in stale] == [("stale", None)]


def test_timed_submission_flags_incomplete_returns(board):
    """At the returns deadline + 5 WD the system submits to the sub-group, flagged
    incomplete_returns, and the sub-group is told."""
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health,police")
    board.fire(ref, "record_return", at=T0 + 2 * H, by=HEALTH, agency="health", view="scr",
               summary="seen")
    auto = by_name(timers(board, ref, "pending"))["returns_auto_submit.transition"]
    report = sweep_at(board, auto.due_at)
    assert [(f.timer, f.trigger) for f in report.of("fired")] == [
        ("returns.overdue", "timer"), ("returns_auto_submit.transition", "submit_to_sub_group")]
    case = board.case(ref)
    assert case.state == "sub_group" and "incomplete_returns" in case.flags
    [submit] = firings(board, ref, "submit_to_sub_group")
    assert (submit.row.actor, submit.row.due_at, submit.row.at) == ("system", auto.due_at,
                                                                    auto.due_at)
    assert submit.row.reason.startswith("automatic: 5 working days after the returns deadline")
    assert {"subchair@board.test", "member@board.test", BM_MAIL} <= submit.recipients
    assert "recommendation.escalation" in by_name(timers(board, ref, "pending"))


def _on_hold_and_scheduled(board: Board, *, criminal: bool) -> tuple[str, Timer]:
    ref = board.refer({**SCR_REFERRAL, "criminal_proceedings": criminal}, at=T0)
    at = board.walk(ref, State.PUBLICATION_HOLD, at=T0)
    for output in ("overview_report", "board_response"):
        board.fire(ref, "record_output", at=at + H, output=output, location="https://x.test")
    board.fire(ref, "send_prepublication_notice", at=at + 2 * H)
    board.fire(ref, "schedule_publication", at=at + 3 * H, date="2027-01-12")
    return ref, by_name(timers(board, ref, "pending"))["publication.transition"]


def test_timed_publication_publishes_on_the_date(board):
    """On the scheduled date, with its guard holding, the system publishes the report."""
    ref, timer = _on_hold_and_scheduled(board, criminal=False)
    assert fired_names(sweep_at(board, timer.due_at - S)) == []
    report = sweep_at(board, timer.due_at)
    assert [(f.timer, f.outcome, f.trigger) for f in report.firings] == [
        ("publication.transition", "fired", "publish")]
    assert board.case(ref).state == "published"
    [publish] = firings(board, ref, "publish")
    assert publish.row.actor == "system" and publish.row.due_at == timer.due_at
    assert {"chair@board.test", "reviewer@board.test", "police@board.test"} <= \
        publish.recipients


def test_timed_publication_blocked_by_criminal_proceedings_escalates_why(board):
    """With criminal proceedings pending the report is not published; the chair and the
    business manager are told why, and it is tried again every 5 working days until it goes
    through."""
    ref, timer = _on_hold_and_scheduled(board, criminal=True)
    report = sweep_at(board, timer.due_at)
    assert [f.timer for f in report.firings] == ["proceedings_check.check",
                                                 "publication.transition"]
    blocked = report.firings[1]
    assert (blocked.timer, blocked.outcome) == ("publication.transition", "blocked")
    assert blocked.reasons == ("criminal proceedings are pending",)
    assert board.case(ref).state == "publication_hold"
    [_check, escalation] = firings(board, ref)
    assert escalation.row.params == {"timer": "publication", "level": "blocked"}
    assert escalation.recipients == {CHAIR_MAIL, BM_MAIL}
    assert all("criminal proceedings are pending" in composed(m).text for m in escalation.mail)
    # Tuesday 12 January 2027 at 09:00 was refused: the retry is a week later, at 09:00.
    retry = by_name(timers(board, ref, "pending"))["publication.transition"]
    assert retry.due_at == timer.due_at + 7 * 24 * H
    assert fired_names(sweep_at(board, retry.due_at - S)) == []
    again = sweep_at(board, retry.due_at)
    assert [(f.timer, f.outcome) for f in again.firings] == [
        ("publication.transition", "blocked")]
    # Someone acts: the proceedings conclude, and the next retry publishes.
    board.fire(ref, "record_proceedings", at=retry.due_at + H, criminal="concluded")
    nxt = by_name(timers(board, ref, "pending"))["publication.transition"]
    assert nxt.due_at == retry.due_at + 7 * 24 * H
    done = sweep_at(board, nxt.due_at)
    assert [(f.timer, f.outcome, f.trigger) for f in done.firings] == [
        ("publication.transition", "fired", "publish")]
    assert board.case(ref).state == "published"
    assert "publication.transition" not in by_name(timers(board, ref, "pending"))


class _CrashAfterWriting(Engine):
    """An engine that fails after the firing's rows are written, before commit."""

    def fire(self, *args, **kwargs):
        super().fire(*args, **kwargs)
        raise RuntimeError("power cut")


def test_a_failed_firing_leaves_the_timer_pending_and_nothing_written(board):
    """The claim commits with the firing or not at all: a failure after the engine wrote
    its rows leaves the timer pending, no history row, no e-mail; the next sweep fires it."""
    ref = board.refer(at=T0)
    reminder = by_name(timers(board, ref))["triage.reminder"]
    before = (len(history(board, ref)), _count(board, Outbox))
    report = sweep_at(board, reminder.due_at, engine=_CrashAfterWriting())
    assert report.firings == [] and report.errors[0]["error"] == "RuntimeError"
    assert (len(history(board, ref)), _count(board, Outbox)) == before
    assert by_name(timers(board, ref))["triage.reminder"].status == "pending"
    assert fired_names(sweep_at(board, reminder.due_at + H)) == ["triage.reminder"]


def test_refused_timed_transition_without_an_escalation_waits_and_retries(sqlite_db):
    """A board that sets the auto-submission before the deadline sees it refused while
    returns are outstanding: it stays pending, is reported, and fires once the guard holds."""
    config = ProcessConfig(start=("scr", "1")).with_offsets(
        {"returns_auto_submit.transition": "-3wd"})
    board = Board(sqlite_db, Engine(config, check_snapshots=True))
    board.seed_users()
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health")
    due = {t.name: t.due_at for t in timers(board, ref, "pending")}
    early = sweep_at(board, due["returns_auto_submit.transition"])
    assert early.errors[0]["event"] == "timer.refused"
    assert "returns are outstanding from health" in early.errors[0]["error"]
    assert by_name(timers(board, ref))["returns_auto_submit.transition"].status == "pending"
    assert board.case(ref).state == "information_request"
    late = sweep_at(board, due["returns.overdue"])
    assert "returns_auto_submit.transition" in fired_names(late)
    assert board.case(ref).state == "sub_group"


def test_next_due_is_the_earliest_pending_timer(board):
    """The daemon's next wake is the earliest pending due moment, or None when none is."""
    assert next_due(board.db) is None
    ref = board.refer(at=T0)
    assert next_due(board.db) == by_name(timers(board, ref))["triage.reminder"].due_at


def test_due_timers_are_read_from_the_status_due_index(sqlite_db):
    """The sweep's read of due timers is a range of the (status, due_at) index, in index
    order: its cost follows what is due, not how many timers are stored (SQLite's plan)."""
    from sqlalchemy import event

    board = Board(sqlite_db)
    board.seed_users()
    board.refer(at=T0)
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM timers" in statement and "ORDER BY" in statement:
            captured.append((statement, parameters))

    event.listen(board.db, "before_cursor_execute", capture)
    try:
        _due(board.db, T0 + 1000 * H, (T0, 0), 50)
    finally:
        event.remove(board.db, "before_cursor_execute", capture)
    [(statement, parameters)] = captured
    raw = board.db.raw_connection()
    try:
        rows = raw.cursor().execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
    finally:
        raw.close()
    plan = " | ".join(str(row[-1]) for row in rows)
    assert "USING INDEX ix_timers_status_due" in plan and "TEMP B-TREE" not in plan


def _count(board: Board, model: type) -> int:
    with records.orm(board.db) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_history_rows_of_firings_are_exactly_the_fired_timers(board):
    """After a busy sweep, every fired timer has its one history row and nothing else does."""
    refs = [board.refer(at=T0 + i * H) for i in range(5)]
    board.fire(refs[0], "request_information", at=T0 + 6 * H, agencies="health")
    now = T0 + timedelta(days=30)
    sweep_at(board, now)
    with records.orm(board.db) as s:
        fired = s.execute(select(func.count()).select_from(Timer)
                          .where(Timer.status == "fired")).scalar_one()
        rows = s.execute(select(func.count()).select_from(History)
                         .where(History.due_at.is_not(None))).scalar_one()
        pending_due = s.execute(select(func.count()).select_from(Timer).where(
            Timer.status == "pending", Timer.due_at <= now)).scalar_one()
    # Four triage escalations; the returns overdue escalation and the auto-submission.
    assert fired == rows == 4 + 2
    assert pending_due == 0


SUBCHAIR_MAIL, HEALTH_MAIL = "subchair@board.test", "health@board.test"


def _to(state: State, *, scr: bool = True, criminal: bool = False):
    def setup(board: Board) -> str:
        ref = board.refer(BELOW_THRESHOLD if not scr else
                          {**SCR_REFERRAL, "criminal_proceedings": criminal}, at=T0)
        at = board.walk(ref, state, at=T0, scr=scr)
        if state == State.CHAIR_DECISION and not scr:
            board.fire(ref, "decide_no_review", at=at + H, by=CHAIR, reason="no learning")
        if state == State.PUBLISHED:
            board.fire(ref, "add_action", at=at + H, by=SUBCHAIR, agency="health",
                       description="Training", owner=HEALTH, due="2027-03-01")
        return ref
    return setup


@pytest.mark.parametrize(("setup", "ladder", "levels"), [
    (_to(State.SUB_GROUP), "recommendation",
     [("escalation", {BM_MAIL, SUBCHAIR_MAIL}), ("chair", {BM_MAIL, CHAIR_MAIL})]),
    (_to(State.CHAIR_DECISION), "decision",
     [("reminder", {BM_MAIL, CHAIR_MAIL}), ("due", {BM_MAIL, CHAIR_MAIL})]),
    (_to(State.CHAIR_DECISION, scr=False), "panel",
     [("reminder", {BM_MAIL}), ("due", {BM_MAIL})]),
    (_to(State.PUBLICATION_HOLD, criminal=True), "proceedings_check",
     [("check", {BM_MAIL})]),
    (_to(State.PUBLICATION_HOLD), "long_hold", [("escalation", {BM_MAIL, CHAIR_MAIL})]),
    (_to(State.PUBLISHED), "action",
     [("reminder", {BM_MAIL, HEALTH_MAIL}), ("overdue", {BM_MAIL, SUBCHAIR_MAIL, HEALTH_MAIL})]),
])
def test_each_ladder_level_fires_at_its_moment_to_its_people(board, setup, ladder, levels):
    """Every other ladder of the SCR process, level by level: nothing a second early, then that
    level alone, to the people the definition names (the business manager always)."""
    ref = setup(board)
    armed = {t.level: t for t in timers(board, ref, "pending") if t.ladder == ladder}
    assert set(armed) == {level for level, _ in levels}
    for level, people in levels:
        timer = armed[level]
        assert [f for f in fired_names(sweep_at(board, timer.due_at - S))
                if f.startswith(ladder)] == []
        report = sweep_at(board, timer.due_at)
        assert timer.name in fired_names(report)
        [firing] = [f for f in firings(board, ref)
                    if f.row.params.get("timer") == ladder and f.row.params["level"] == level]
        assert firing.recipients == people, level
        assert firing.row.due_at == timer.due_at


def test_panel_notice_recorded_stops_the_panel_reminders(board):
    """Once the notice to the national panel is recorded, its due escalation never fires."""
    ref = _to(State.CHAIR_DECISION, scr=False)(board)
    due = by_name(timers(board, ref, "pending"))["panel.due"]
    board.fire(ref, "record_panel_notice", at=T0 + timedelta(days=3),
               date=(T0 + timedelta(days=3)).date().isoformat())
    assert fired_names(sweep_at(board, due.due_at + H)) == []
    assert by_name(timers(board, ref))["panel.due"].status == "disarmed"


def test_a_prompt_firing_does_not_claim_an_outage_but_history_keeps_the_delay(board):
    """Two minutes after its due moment is not "late" in the e-mail (the daemon was
    running), yet the history row keeps both moments."""
    ref = board.refer(at=T0)
    reminder = by_name(timers(board, ref))["triage.reminder"]
    sweep_at(board, reminder.due_at + timedelta(minutes=2))
    [firing] = firings(board, ref)
    assert firing.row.at - firing.row.due_at == timedelta(minutes=2)
    assert all("Late:" not in composed(m).text for m in firing.mail)


def test_the_definition_check_knows_refusal_levels():
    """A refusal level is only for a timer that fires a trigger, and must not double as a
    planned level; the shipped definition has neither problem."""
    import dataclasses

    from scr.states import validate
    from scr.states.process import Level
    from scr.states.scr.v1 import DEFINITION, TIMERS

    assert validate.problems(DEFINITION) == []
    broken = tuple(
        dataclasses.replace(t, refused=Level("reminder", "entered", ("chair",)))
        if t.ladder == "triage" else t for t in TIMERS)
    found = validate.problems(dataclasses.replace(DEFINITION, timers=broken))
    assert "timer triage: a refusal level, but it fires no trigger" in found
    assert "timer triage: refusal level reminder is also a planned level" in found


def test_a_deadline_armed_already_past_is_not_called_late(board):
    """A case reaching the chair more than a month after referral arms the decision
    deadline in the past; fired at the next sweep, it is not reported as late."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.SUB_GROUP, at=T0) + timedelta(days=40)
    board.fire(ref, "record_meeting", at=at, by=SUBCHAIR, date=at.date().isoformat(),
               attendees="childrens_social_care,health,police")
    board.fire(ref, "recommend", at=at, by=SUBCHAIR, reason="met", recommendation="scr")
    due = by_name(timers(board, ref, "pending"))["decision.due"]
    assert due.due_at < at  # one month after the referral: already past
    sweep_at(board, at + timedelta(seconds=5))
    [firing] = [f for f in firings(board, ref) if f.row.params.get("level") == "due"]
    assert firing.row.due_at == at
    assert all("Late:" not in composed(m).text for m in firing.mail)


def test_a_notice_period_accepted_when_scheduled_is_never_refused_on_the_day(board):
    """Notice sent on Thursday 24 December 2026 at 15:30; seven working days, across
    Christmas, Boxing Day (substitute Monday 28th) and New Year's Day, allow publication on
    Thursday 7 January 2027. Scheduling that date is accepted, and the timed publication at
    09:00 that day goes through: the notice period is judged by the day both times."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.PUBLICATION_HOLD, at=T0)
    for output in ("overview_report", "board_response"):
        board.fire(ref, "record_output", at=at + H, output=output, location="https://x.test")
    sent = datetime(2026, 12, 24, 15, 30, tzinfo=UTC)  # GMT: London time is UTC
    board.fire(ref, "send_prepublication_notice", at=sent)
    with pytest.raises(Refused, match="2027-01-07"):
        board.fire(ref, "schedule_publication", at=sent + H, date="2027-01-06")
    board.fire(ref, "schedule_publication", at=sent + H, date="2027-01-07")
    timer = by_name(timers(board, ref, "pending"))["publication.transition"]
    assert timer.due_at == datetime(2027, 1, 7, 9, 0, tzinfo=UTC)
    report = sweep_at(board, timer.due_at)
    assert [(f.timer, f.outcome, f.trigger) for f in report.firings] == [
        ("publication.transition", "fired", "publish")]
    assert board.case(ref).state == "published"
