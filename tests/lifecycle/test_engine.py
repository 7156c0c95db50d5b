"""The engine: one transaction per trigger, timers armed and disarmed with the state,
e-mail queued to the right people, nothing written on refusal, free text kept private."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from scr.lifecycle.runtime.delivery import composed
from scr.states.enums import State
from scr.states.errors import Conflict, InvalidInput, NotFound, Refused
from scr.storage import cases, facts
from scr.storage.db import reading
from tests import records
from tests.board import (
    BM,
    CHAIR,
    HEALTH,
    POLICE,
    QUORUM,
    REVIEWER,
    SCR_REFERRAL,
    SUBCHAIR,
)
from tests.conftest import T0


@pytest.fixture
def board(any_board):
    """Part of the contract suite: every test here runs on SQLite and on PostgreSQL."""
    return any_board

H = timedelta(hours=1)


def counts(board) -> tuple[int, int, int]:
    return records.counts(board.db)


def timers(board, ref, status=None) -> dict[str, object]:
    return records.timers_by_name(board.db, ref, status)


def outbox(board, ref) -> list[records.OutboxRecord]:
    return records.mail(board.db, ref)


def test_refused_and_bad_triggers_write_nothing(board):
    """A refusal, bad input or unknown trigger leaves history, timers and outbox as they were."""
    ref = board.refer(at=T0)
    before = counts(board)
    with pytest.raises(Refused):
        board.fire(ref, "withdraw", at=T0 + H)
    with pytest.raises(InvalidInput):
        board.fire(ref, "request_information", at=T0 + H, agencies="fire_brigade")
    with pytest.raises(NotFound):
        board.fire(ref, "launch_rocket", at=T0 + H)
    with pytest.raises(NotFound):
        board.fire("CR-1999-0001", "withdraw", at=T0 + H, reason="x")
    with pytest.raises(Refused):
        board.fire(ref, "request_information", at=T0 + H, by=CHAIR, agencies="health")
    assert counts(board) == before
    assert board.case(ref).version == 1


def test_stale_version_is_a_conflict_and_writes_nothing(board):
    """Firing with the version read before someone else's change is a conflict."""
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health")
    before = counts(board)
    with pytest.raises(Conflict, match="changed since it was read"):
        board.fire(ref, "add_agency", at=T0 + 2 * H, agency="police", expect_version=1)
    assert counts(board) == before
    assert board.fire(ref, "add_agency", at=T0 + 2 * H, agency="police",
                      expect_version=2).version == 3


def test_stale_version_is_a_conflict_even_when_the_state_has_moved_on(board):
    """Read at version 1, the case then moved on: the trigger no longer applies there and
    a guard would refuse it, but what the person must hear is that the case changed."""
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health")
    before = counts(board)
    with pytest.raises(Conflict, match="changed since it was read"):
        board.fire(ref, "request_information", at=T0 + 2 * H, agencies="police",
                   expect_version=1)
    with pytest.raises(Conflict, match="changed since it was read"):
        board.fire(ref, "withdraw", at=T0 + 2 * H, expect_version=1)  # no reason: refused
    assert counts(board) == before


def test_referral_arms_triage_on_working_days(board):
    """A referral on Monday 23 Nov 10:00 is reminded on Thursday and escalated next Monday."""
    ref = board.refer(at=T0)
    armed = timers(board, ref)
    assert armed["triage.reminder"].due_at == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert armed["triage.escalation"].due_at == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert "3 working days after" in armed["triage.reminder"].rule


def test_leaving_a_state_disarms_its_timers_and_arms_the_next(board):
    """request_information disarms triage and arms the returns ladder and auto-submission."""
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health,police")
    every = timers(board, ref)
    assert every["triage.reminder"].status == "disarmed"
    pending = timers(board, ref, "pending")
    # 10 working days after Mon 23 Nov 11:00 is Mon 7 Dec 11:00.
    assert pending["returns.overdue"].due_at == datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
    assert pending["returns.reminder"].due_at == datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
    assert pending["returns_auto_submit.transition"].due_at == \
        datetime(2026, 12, 14, 11, 0, tzinfo=UTC)
    assert pending["returns_auto_submit.transition"].fires == "submit_to_sub_group"


def test_returns_ladder_goes_when_every_return_is_in(board):
    """Once every agency has returned, nobody is reminded; the auto-submission stays."""
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health,police")
    board.fire(ref, "record_return", at=T0 + 2 * H, by=HEALTH, agency="health", view="scr",
               summary="x")
    assert "returns.reminder" in timers(board, ref, "pending")
    board.fire(ref, "record_return", at=T0 + 3 * H, by=POLICE, agency="police",
               view="case_review", summary="y")
    pending = timers(board, ref, "pending")
    assert "returns.reminder" not in pending and "returns.overdue" not in pending
    assert "returns_auto_submit.transition" in pending


def test_submission_after_the_deadline_flags_incomplete_returns(board):
    """Past the returns deadline the business manager may submit; the case is flagged."""
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health,police")
    with pytest.raises(Refused, match="returns are outstanding from health, police"):
        board.fire(ref, "submit_to_sub_group", at=T0 + timedelta(days=13))
    case = board.fire(ref, "submit_to_sub_group", at=T0 + timedelta(days=15),
                      meeting_date="2026-12-10")
    assert case.state == "sub_group" and "incomplete_returns" in case.flags
    # The recommendation is due 1 working day after the meeting, at the start of the day.
    pending = timers(board, ref, "pending")
    assert pending["recommendation.escalation"].due_at == \
        datetime(2026, 12, 11, 9, 0, tzinfo=UTC)
    assert pending["recommendation.chair"].due_at == datetime(2026, 12, 18, 9, 0, tzinfo=UTC)


def test_actions_arm_and_completion_disarms_their_timers(board):
    """Each action has its own reminder and escalation; completing it disarms them."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.PUBLISHED, at=T0)
    board.fire(ref, "add_action", at=at + H, by=SUBCHAIR, agency="health",
               description="Training", owner=HEALTH, due="2027-03-01")
    board.fire(ref, "add_action", at=at + 2 * H, by=SUBCHAIR, agency="police",
               description="Audit", owner="Head of PPU", due="2027-04-01")
    pending = timers(board, ref, "pending")
    assert {"action.1.reminder", "action.1.overdue", "action.2.reminder",
            "action.2.overdue"} <= set(pending)
    # 5 working days before Monday 1 March 2027 is Monday 22 February.
    assert pending["action.1.reminder"].due_at == datetime(2027, 2, 22, 9, 0, tzinfo=UTC)
    board.fire(ref, "complete_action", at=at + 3 * H, by=HEALTH, action="1", evidence="done")
    pending = timers(board, ref, "pending")
    assert "action.1.reminder" not in pending and "action.2.reminder" in pending


def test_agency_lead_completes_only_their_agencys_actions(board):
    """An agency lead may complete their own agency's action and not another's."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.PUBLISHED, at=T0)
    board.fire(ref, "add_action", at=at + H, by=BM, agency="police", description="Audit",
               owner=POLICE, due="2027-04-01")
    with pytest.raises(Refused, match="agency_lead"):
        board.fire(ref, "complete_action", at=at + 2 * H, by=HEALTH, action="1", evidence="x")
    board.fire(ref, "complete_action", at=at + 2 * H, by=POLICE, action="1", evidence="x")


def test_no_review_arms_the_panel_reminder_until_recorded(board):
    """A no-review decision arms the 10- and 14-day panel timers; the notice stops them."""
    from tests.board import BELOW_THRESHOLD

    ref = board.refer(BELOW_THRESHOLD, at=T0)
    at = board.walk(ref, State.CHAIR_DECISION, at=T0, scr=False)
    board.fire(ref, "decide_no_review", at=at + H, by=CHAIR, reason="single-agency issue")
    pending = timers(board, ref, "pending")
    assert pending["panel.due"].due_at == at + H + timedelta(days=14)
    assert pending["panel.reminder"].due_at == at + H + timedelta(days=10)
    board.fire(ref, "record_panel_notice", at=at + 2 * H, date=(at + 2 * H).date().isoformat())
    assert timers(board, ref, "pending") == {}


def test_withdrawal_arms_no_panel_reminder(board):
    """Only a no-review decision needs the national panel told; a withdrawal does not."""
    ref = board.refer(at=T0)
    board.fire(ref, "withdraw", at=T0 + H, reason="duplicate")
    assert timers(board, ref, "pending") == {}


def test_rescheduling_publication_replaces_the_timer(board):
    """A new publication date disarms the old timed transition and arms one later."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.PUBLICATION_HOLD, at=T0)
    board.fire(ref, "send_prepublication_notice", at=at + H)
    board.fire(ref, "schedule_publication", at=at + 2 * H, date="2027-01-20")
    board.fire(ref, "schedule_publication", at=at + 3 * H, date="2027-02-03")
    rows = [t for t in records.case_timers(board.db, ref) if t.ladder == "publication"]
    assert [(r.status, r.sequence) for r in rows] == [("disarmed", 0), ("pending", 1)]
    assert rows[1].due_at == datetime(2027, 2, 3, 9, 0, tzinfo=UTC)


def test_mail_goes_to_the_people_the_definition_names(board):
    """request_information mails the business manager, the named agencies' leads and the
    sub-group chair; not other agencies' leads."""
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health,police")
    sent = {o.recipient for o in outbox(board, ref) if o.template == "request_information"}
    assert sent == {"bm@board.test", "health@board.test", "police@board.test",
                    "subchair@board.test"}


def test_free_text_stays_out_of_history_and_mail(board):
    """The referral's summary and an agency's summary are stored, never copied to history
    or e-mail."""
    secret = "Jayden Smith, born 14/03/2019"
    ref = board.refer({**SCR_REFERRAL, "summary": secret}, at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health")
    board.fire(ref, "record_return", at=T0 + 2 * H, by=HEALTH, agency="health", view="scr",
               summary=f"GP saw {secret}")
    assert records.referral(board.db, ref).summary == secret
    rows = records.case_history(board.db, ref)
    assert all(secret not in str(h.params) for h in rows)
    assert rows[0].params["summary"] == "(stored)"
    for message in outbox(board, ref):
        done = composed(message)
        for part in (done.subject, done.text, done.html):
            assert "Jayden" not in part and "2019" not in part


def test_milestones_locations_and_action_descriptions_are_never_mailed(board):
    """A name typed in a review milestone, an output's location or an action's description
    reaches no e-mail; history keeps the milestone and the location (it is their record)
    and marks the description "(stored)": the action plan keeps it."""
    name = "Jaydon Wolfenden-Pryce"
    review = board.refer(at=T0)
    at = board.walk(review, State.REVIEW, at=T0)
    board.fire(review, "record_milestone", at=at + H, by=REVIEWER,
               milestone=f"Practitioner event on {name}")
    board.fire(review, "complete_review", at=at + 2 * H, by=REVIEWER, report="Overview")
    board.fire(review, "record_output", at=at + 3 * H, output="overview_report",
               location=f"S:/reviews/{name}/overview.docx")
    published = board.refer(at=T0)
    at = board.walk(published, State.PUBLISHED, at=T0)
    board.fire(published, "add_action", at=at + H, by=SUBCHAIR, agency="health",
               description=f"See that {name} is seen by the GP", owner=HEALTH,
               due="2027-06-01")
    for ref in (review, published):
        for message in outbox(board, ref):
            done = composed(message)
            for part in (done.subject, done.text, done.html):
                assert "Jaydon" not in part, message.template
    kept = {h.trigger: h.params for h in records.case_history(board.db, review)}
    assert name in kept["record_milestone"]["milestone"]
    assert name in kept["record_output"]["location"]
    added = records.case_history(board.db, published)[-1]
    assert added.params["description"] == "(stored)" and added.params["owner"] == HEALTH
    with reading(board.db) as tx:
        plan = facts.actions(tx, cases.load(tx, published).id)
    assert name in plan[0].description


def test_amending_the_summary_keeps_the_one_it_replaced(board):
    """Each summary an amendment replaces is kept, numbered from 1, with who replaced it
    and when; an amendment that leaves the summary as it is keeps nothing; history holds
    none of the text."""
    ref = board.refer({**SCR_REFERRAL, "summary": "First account"}, at=T0)
    board.fire(ref, "amend_referral", at=T0 + H, reason="fuller account",
               summary="Second account")
    board.fire(ref, "amend_referral", at=T0 + 2 * H, reason="harm", harm="death")
    board.fire(ref, "amend_referral", at=T0 + 3 * H, reason="same", summary="Second account")
    board.fire(ref, "amend_referral", at=T0 + 4 * H, reason="corrected",
               summary="Third account")
    with reading(board.db) as tx:
        kept = facts.summary_versions(tx, cases.load(tx, ref).id)
    assert [(v.version, v.summary, v.replaced_by, v.replaced_at) for v in kept] == [
        (1, "First account", BM, T0 + H), (2, "Second account", BM, T0 + 4 * H)]
    assert records.referral(board.db, ref).summary == "Third account"
    assert all("account" not in str(h.params) for h in records.case_history(board.db, ref))


def test_history_records_every_step(board):
    """The history of a whole SCR holds one row per trigger, in order, chained by state."""
    ref = board.refer(at=T0)
    board.walk(ref, State.ACTIONS_SIGNED_OFF, at=T0)
    rows = records.case_history(board.db, ref)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].trigger == "refer" and rows[-1].dest == "actions_signed_off"
    for before, after in pairwise(rows):
        assert after.source == before.dest
    assert {r.actor for r in rows} >= {BM, CHAIR, SUBCHAIR, REVIEWER, HEALTH}


def test_a_snapshot_derived_wrongly_is_caught_by_the_check(board, monkeypatch):
    """The engine derives the case's snapshot after a trigger from what the effect says it
    changed; the check (on in every test) re-reads the case and fails on a difference.
    Here an effect that forgets to say it recorded a meeting is caught."""
    from scr.lifecycle.core import effects
    from scr.lifecycle.core.firing import Firing

    ref = board.refer(at=T0)
    board.walk(ref, State.SUB_GROUP, at=T0)
    real = effects.EFFECTS["record_meeting"]

    def forgetful(ctx: Firing) -> None:
        real(ctx)
        del ctx.changes["meetings"]

    monkeypatch.setitem(effects.EFFECTS, "record_meeting", forgetful)
    version = board.case(ref).version
    with pytest.raises(AssertionError, match="differs from the stored case in meetings"):
        board.fire(ref, "record_meeting", at=T0 + timedelta(days=30), by=SUBCHAIR,
                   date=(T0 + timedelta(days=29)).date().isoformat(),
                   attendees=QUORUM)
    assert board.case(ref).version == version  # and nothing was written


def test_bad_input_comes_back_with_every_fields_problem(board):
    """One bad value hides none of the others: a form shows them all at once; the message
    (the command line's one line) is the first, an unknown parameter before the rest."""
    ref = board.refer(at=T0)
    with pytest.raises(InvalidInput) as caught:
        board.fire(ref, "request_information", at=T0 + H, agencies="fire_brigade",
                   urgent="perhaps", colour="red")
    fields = caught.value.fields
    assert list(fields) == ["colour", "agencies", "urgent"]
    assert str(caught.value) == fields["colour"]
    assert "unknown parameter 'colour'" in fields["colour"]
    assert "fire_brigade" in fields["agencies"] and "perhaps" in fields["urgent"]
    with pytest.raises(InvalidInput) as missing:
        board.fire(ref, "request_information", at=T0 + H)
    assert list(missing.value.fields) == ["agencies"]
