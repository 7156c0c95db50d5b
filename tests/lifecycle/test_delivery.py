"""Delivering the outbox: to a maildir and to a real SMTP server (aiosmtpd), exactly once
when all goes well, again with the same Message-ID after a crash, never dropped."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy
from pathlib import Path

import icalendar
import pytest

from scr.handlers.mail import deliver
from scr.handlers.transport import SmtpTransport
from scr.lifecycle.runtime.delivery import LEASE, claim, composed, deliver_outbox, mark, retry
from scr.lifecycle.settings import MailSettings, Settings
from scr.states.enums import State
from tests import records
from tests.board import BM, CHAIR, CSC, HEALTH, POLICE, REVIEWER, SCR_REFERRAL, SUBCHAIR, Board
from tests.conftest import T0


@pytest.fixture
def board(any_board):
    """Part of the contract suite: every test here runs on SQLite and on PostgreSQL."""
    return any_board

H = timedelta(hours=1)


def settings_for(tmp_path: Path, smtp_port: int | None = None, **mail) -> Settings:
    url = f"smtp://127.0.0.1:{smtp_port}" if smtp_port else None
    return Settings(mail=MailSettings(mail_dir=tmp_path / "mail", smtp_url=url, **mail))


def rows(board: Board, status: str | None = None):
    return records.mail(board.db, status=status)


def some_mail(board: Board) -> str:
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health,police")
    return ref


def test_maildir_gets_every_message_once(board, tmp_path):
    """Every pending message lands in new/ of a standard maildir; a second run sends none."""
    some_mail(board)
    settings = settings_for(tmp_path)
    pending = rows(board, "pending")
    report = deliver_outbox(board.db, settings, T0 + 2 * H)
    assert report.sent == len(pending) > 0
    files = list((tmp_path / "mail" / "new").iterdir())
    assert len(files) == len(pending)
    assert {p.name for p in (tmp_path / "mail").iterdir()} == {"new", "cur", "tmp"}
    assert deliver_outbox(board.db, settings, T0 + 3 * H).sent == 0
    assert all(r.status == "sent" and r.attempts == 1 for r in rows(board))


def test_smtp_delivery_carries_the_stored_message_id(board, tmp_path, start_server):
    """Messages reach the SMTP server over one connection, each with its row's Message-ID."""
    some_mail(board)
    server = start_server()
    deliver_outbox(board.db, settings_for(tmp_path, server.port), T0 + 2 * H)
    stored = {r.message_id: r.recipient for r in rows(board)}
    got = {m.message["Message-ID"]: m.rcpt_tos for m in server.handler.received}
    assert set(got) == set(stored)
    assert all(got[mid] == [stored[mid]] for mid in stored)
    assert server.handler.connections == 1


def test_server_down_then_up_delivers_everything_exactly_once(board, tmp_path, unused_port,
                                                              start_server):
    """With the server down nothing is lost: messages wait with back-off, then each is
    delivered exactly once when it is back."""
    some_mail(board)
    settings = settings_for(tmp_path, unused_port)
    total = len(rows(board))
    down = deliver_outbox(board.db, settings, T0 + 2 * H)
    assert (down.sent, down.retried) == (0, total)
    waiting = rows(board, "pending")
    assert len(waiting) == total and all(r.attempts == 1 for r in waiting)
    assert all(r.next_attempt_at > T0 + 2 * H for r in waiting)
    # Not due again yet: nothing is tried.
    assert deliver_outbox(board.db, settings, T0 + 2 * H).retried == 0
    server = start_server(port=unused_port)
    up = deliver_outbox(board.db, settings, T0 + 3 * H)
    assert up.sent == total
    ids = [m.message["Message-ID"] for m in server.handler.received]
    assert len(ids) == len(set(ids)) == total
    assert {r.status for r in rows(board)} == {"sent"}


def test_a_silent_mail_server_costs_one_timeout_a_call_not_one_a_batch(board, tmp_path,
                                                                      silent_server):
    """A server that accepts the connection and never answers: delivery waits out one
    connection timeout, stops there and says the server is unreachable, though more
    batches were due; every message stays pending for its retry, none failed."""
    some_mail(board)
    pending = rows(board, "pending")
    assert len(pending) >= 3
    settings = settings_for(tmp_path, silent_server.port, batch_size=1)
    silent = SmtpTransport.from_url(f"smtp://127.0.0.1:{silent_server.port}", timeout=0.3)
    report = deliver_outbox(board.db, settings, T0 + 2 * H, transport=silent)
    assert report.unreachable and (report.sent, report.retried, report.failed) == (0, 1, 0)
    assert silent_server.connections == 1
    assert len(rows(board, "pending")) == len(pending) and not rows(board, "failed")


def test_crash_between_send_and_mark_resends_with_the_same_id(board, tmp_path, start_server):
    """If the process dies after sending and before marking, the lease expires and the same
    messages go again with the same Message-IDs: a recognisable duplicate, nothing lost."""
    some_mail(board)
    server = start_server()
    settings = settings_for(tmp_path, server.port)
    at = T0 + 2 * H
    messages = claim(board.db, settings, at, 100)
    with SmtpTransport.from_url(settings.mail.smtp_url) as transport:
        deliver(messages, transport)  # ...and the process is killed before mark()
    first = [m.message["Message-ID"] for m in server.handler.received]
    assert deliver_outbox(board.db, settings, at + timedelta(minutes=1)).sent == 0  # leased
    again = deliver_outbox(board.db, settings, at + LEASE + timedelta(seconds=1))
    assert again.sent == len(first)
    second = [m.message["Message-ID"] for m in server.handler.received[len(first):]]
    assert sorted(second) == sorted(first)
    assert {r.status for r in rows(board)} == {"sent"}


def test_crash_between_send_and_mark_writes_no_second_maildir_copy(board, tmp_path):
    """The maildir recognises the resent Message-ID and keeps one copy."""
    some_mail(board)
    settings = settings_for(tmp_path)
    at = T0 + 2 * H
    messages = claim(board.db, settings, at, 100)
    from scr.lifecycle.runtime.delivery import transport_for

    with transport_for(settings) as transport:
        deliver(messages, transport)
    deliver_outbox(board.db, settings, at + LEASE + timedelta(seconds=1))
    assert len(list((tmp_path / "mail" / "new").iterdir())) == len(messages)


def test_refused_recipient_fails_and_alerts_the_business_manager(board, tmp_path,
                                                                  start_server):
    """A 550 is permanent: the message is marked failed and the business manager is told."""
    some_mail(board)
    server = start_server(refuse={"police@board.test"})
    settings = settings_for(tmp_path, server.port)
    report = deliver_outbox(board.db, settings, T0 + 2 * H, batches=1)
    failed = rows(board, "failed")
    # The request and the calendar invitation to the police lead both bounce.
    assert report.failed == len(failed) == 2
    assert {r.recipient for r in failed} == {"police@board.test"}
    alerts = [r for r in rows(board) if r.template == "delivery_failed"]
    assert [a.recipient for a in alerts] == ["bm@board.test"] * 2
    assert all("police@board.test" in composed(a).text for a in alerts)
    deliver_outbox(board.db, settings, T0 + 3 * H)
    assert any("could not be delivered" in m.message["Subject"]
               for m in server.handler.received)


def test_after_the_last_attempt_a_message_fails_and_can_be_retried(board, tmp_path,
                                                                   unused_port, start_server):
    """Temporary failures back off; after max_attempts the message fails (alerting the
    business manager); `retry` queues it again and it is delivered."""
    ref = board.refer(at=T0)
    settings = settings_for(tmp_path, unused_port, max_attempts=3, backoff_seconds=60)
    at = T0 + H
    for _ in range(3):
        deliver_outbox(board.db, settings, at)
        at += timedelta(hours=7)  # past any back-off
    failed = rows(board, "failed")
    assert len(failed) == 2 and all(r.attempts == 3 for r in failed)  # BM and chair
    assert any(r.template == "delivery_failed" for r in rows(board, "pending"))
    server = start_server(port=unused_port)
    for row in failed:
        retry(board.db, row.id, at)
    deliver_outbox(board.db, settings, at)
    assert all(r.status == "sent" for r in rows(board))
    assert len(server.handler.received) == 4
    assert ref


def test_mark_ignores_rows_already_settled(board, tmp_path):
    """Marking the same result twice changes nothing the second time."""
    some_mail(board)
    settings = settings_for(tmp_path)
    at = T0 + 2 * H
    messages = claim(board.db, settings, at, 1)
    from scr.handlers.mail import DeliveryResult

    result = [DeliveryResult(messages[0].outbox_id, messages[0].message_id, True, None, False)]
    assert mark(board.db, settings, result, at).sent == 1
    assert mark(board.db, settings, result, at).sent == 0


PLANTED_NAME = "Jaydon Wolfenden-Pryce"
PLANTED_DOB = "14/03/2019"


def test_no_message_of_a_whole_lifecycle_names_the_child(board, tmp_path, start_server):
    """A name and date of birth planted in every free-text field that may hold case detail
    (the summaries, a milestone, an output's location, an action's description and
    evidence) never appear in any e-mail of a whole SCR, from referral to actions signed
    off, reminders and escalations from the daemon's sweeps included."""
    from scr.lifecycle.runtime.sweep import sweep

    planted = f"{PLANTED_NAME}, born {PLANTED_DOB} (2019-03-14)"
    ref = board.refer({**SCR_REFERRAL, "summary": planted}, at=T0)
    t = T0

    def go(trigger, by=BM, reason=None, **p):
        nonlocal t
        t += H
        board.fire(ref, trigger, at=t, by=by, reason=reason, **p)

    def wait(days: int) -> None:
        nonlocal t
        t += timedelta(days=days)
        sweep(board.db, board.engine, t)

    wait(6)  # triage reminder and escalation
    go("request_information", agencies="childrens_social_care,health,police")
    wait(12)  # returns reminder and overdue escalation
    for agency, lead in (("childrens_social_care", CSC), ("health", HEALTH), ("police", POLICE)):
        go("record_return", by=lead, agency=agency, view="scr", summary=planted)
    go("submit_to_sub_group", meeting_date=(t + timedelta(days=7)).date().isoformat())
    t += timedelta(days=7)
    go("record_meeting", date=t.date().isoformat(),
       attendees="childrens_social_care,health,police")
    go("recommend", by=SUBCHAIR, reason="criteria met", recommendation="scr")
    go("commission_scr", by=CHAIR, methodology="scie_systems", lead_reviewer=REVIEWER)
    go("record_milestone", by=REVIEWER, milestone=planted)
    wait(200)  # completion reminder, due and overdue
    go("complete_review", by=REVIEWER, report="Overview report")
    go("record_proceedings", criminal="pending")
    go("send_prepublication_notice")
    go("schedule_publication", date=(t + timedelta(days=20)).date().isoformat())
    wait(30)  # proceedings check; publication blocked by the pending proceedings
    go("record_proceedings", criminal="concluded")
    go("record_output", output="overview_report", location=planted)
    go("record_output", output="board_response")
    go("send_prepublication_notice")
    go("schedule_publication", date=(t + timedelta(days=30)).date().isoformat())
    t += timedelta(days=30)
    go("publish")
    go("add_action", by=SUBCHAIR, agency="health", description=planted, owner=HEALTH,
       due=(t + timedelta(days=60)).date().isoformat())
    wait(70)  # action reminder and overdue escalation
    go("complete_action", by=HEALTH, action="1", evidence=planted)
    go("sign_off_action", by=SUBCHAIR, action="1")
    go("sign_off_actions", by=SUBCHAIR)
    assert board.state(ref) == State.ACTIONS_SIGNED_OFF

    templates = {r.template for r in rows(board)}
    assert {"timer.triage", "timer.returns", "timer.completion", "timer.proceedings_check",
            "timer.publication", "timer.action", "calendar_update"} <= templates
    server = start_server()
    deliver_outbox(board.db, settings_for(tmp_path, server.port), t + H)
    received = server.handler.received
    assert len(received) == len(rows(board)) > 80
    for item in received:
        message = email.message_from_bytes(item.raw, policy=policy.default)
        text = item.raw.decode("utf-8", "replace")
        for part in message.walk():
            if not part.is_multipart():
                text += part.get_content() if part.get_content_maintype() == "text" else ""
        for needle in ("Jaydon", "Wolfenden", PLANTED_DOB, "2019-03-14"):
            assert needle not in text, f"{needle} leaked in {message['Subject']}"


def test_calendar_invitations_parse_and_replace_each_other(board, tmp_path):
    """Every .ics parses; rescheduling sends the same UID with a higher SEQUENCE, and a
    withdrawn deadline a CANCEL."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.PUBLICATION_HOLD, at=T0)
    board.fire(ref, "send_prepublication_notice", at=at + H)
    board.fire(ref, "schedule_publication", at=at + 2 * H, date="2027-03-01")
    board.fire(ref, "schedule_publication", at=at + 3 * H, date="2027-03-08")
    invites = [r for r in rows(board) if r.calendar]
    assert invites and all(r.template == "calendar_update" for r in invites)
    parsed = [icalendar.Calendar.from_ical(composed(r).ics) for r in invites]
    events = [(str(c["METHOD"]), next(iter(c.walk("VEVENT")))) for c in parsed]
    publication = [(m, e) for m, e in events if "-publication@" in str(e["UID"])]
    seqs = sorted({(int(e["SEQUENCE"]), e.decoded("DTSTART").isoformat(), m)
                   for m, e in publication})
    assert seqs == [(0, "2027-03-01", "REQUEST"), (1, "2027-03-08", "REQUEST")]
    # The review's completion deadline was withdrawn when the review completed.
    cancels = [e for m, e in events if m == "CANCEL"]
    assert any("-completion@" in str(e["UID"]) for e in cancels)
    assert all(str(e["STATUS"]) == "CANCELLED" for e in cancels)


@pytest.mark.parametrize("ladder", ["returns", "decision"])
def test_deadline_invitations_go_to_those_who_must_act(board, ladder):
    """The returns deadline invites the agencies asked; the decision deadline the chair."""
    ref = board.refer(at=T0)
    target = State.INFORMATION_REQUEST if ladder == "returns" else State.CHAIR_DECISION
    board.walk(ref, target, at=T0)
    invited = {r.recipient for r in rows(board) if r.calendar
               and f"-{ladder}@" in r.calendar["uid"] and r.calendar["method"] == "REQUEST"}
    expected = {"returns": {"bm@board.test", "csc@board.test", "health@board.test",
                            "police@board.test"},
                "decision": {"bm@board.test", "chair@board.test"}}[ladder]
    assert invited == expected


def test_a_notice_that_cannot_be_rendered_fails_and_alerts(board, tmp_path):
    """A queued notice whose template fails is never sent empty: it is marked failed, kept
    with the error, and the business manager is alerted; the rest of the batch goes."""
    from sqlalchemy import update

    from scr.storage.models import Outbox

    some_mail(board)
    first = records.mail(board.db)[0]
    with records.orm(board.db) as s:
        broken = dict(first.notice, template="no_such_template")
        s.execute(update(Outbox).where(Outbox.id == first.id).values(notice=broken))
    report = deliver_outbox(board.db, settings_for(tmp_path), T0 + 2 * H)
    failed = rows(board, "failed")
    assert [r.id for r in failed] == [first.id] and "could not render" in failed[0].last_error
    assert report.sent == len(rows(board, "sent")) > 0
    alerts = [r for r in rows(board) if r.template == "delivery_failed"]
    assert alerts and all(a.recipient == "bm@board.test" for a in alerts)
