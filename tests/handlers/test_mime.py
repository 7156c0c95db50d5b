from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from scr.handlers.ics import CalendarEntry, cancellation, to_ics
from scr.handlers.mail import Message, build_mime, make_message_id, next_attempt_at
from scr.handlers.render import render
from tests.handlers.samples import make_notice

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
INVITE = CalendarEntry(
    uid="timer-CR-2026-0001-returns.due@scr",
    sequence=1,
    method="REQUEST",
    summary="CR-2026-0001 Child K: agency returns due",
    description="Agency returns due",
    start=datetime(2026, 12, 4, 10, 15, tzinfo=UTC),
    stamp=NOW,
    organizer="scr@localhost",
    attendees=("pat.lee@health.example",),
)


NOTICE = make_notice(reason=None)


def message(**changes: object) -> Message:
    rendered = render(NOTICE)
    base = Message(
        outbox_id=7,
        message_id=make_message_id("outbox-7", "scr.local"),
        sender="Anyshire SCB <scr@localhost>",
        to="Pat Lee <pat.lee@health.example>",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        case_ref="CR-2026-0001",
        date=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def reparse(mime: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(mime.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_plain_message_is_text_and_html_alternatives_with_its_headers() -> None:
    """Without an invitation: multipart/alternative, text first, and every header set."""
    msg = message()
    mime = reparse(build_mime(msg))
    assert mime.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mime.iter_parts()] == ["text/plain", "text/html"]
    assert mime["Message-ID"] == msg.message_id
    assert mime["Date"] == "Tue, 01 Dec 2026 09:00:00 +0000"
    assert mime["From"] == "Anyshire SCB <scr@localhost>"
    assert mime["To"] == "Pat Lee <pat.lee@health.example>"
    assert mime["Subject"] == "[CR-2026-0001 Child K] Information requested from agencies"
    assert mime["X-SCR-Case"] == "CR-2026-0001"
    assert mime["Auto-Submitted"] == "auto-generated"
    text = mime.get_body(("plain",))
    html = mime.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    assert text.get_content() == msg.text.replace("\r\n", "\n")
    assert html.get_content() == msg.html


def test_invitation_adds_an_inline_calendar_part_and_an_invite_ics_attachment() -> None:
    """With ics: the calendar is an alternative (method=REQUEST) and attached as invite.ics."""
    ics = to_ics(INVITE)
    mime = reparse(build_mime(message(ics=ics)))
    assert mime.get_content_type() == "multipart/mixed"
    alternative, attachment = list(mime.iter_parts())
    assert [p.get_content_type() for p in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    calendar = list(alternative.iter_parts())[2]
    assert calendar.get_param("method") == "REQUEST"
    assert isinstance(calendar, EmailMessage) and isinstance(attachment, EmailMessage)
    assert calendar.get_content().replace("\n", "\r\n") == ics
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_content() == ics.encode("utf-8")


def test_cancellation_carries_method_cancel_in_the_content_type() -> None:
    """A CANCEL invitation is labelled method=CANCEL so calendars remove the entry."""
    ics = to_ics(cancellation(INVITE, stamp=NOW + timedelta(hours=1)))
    mime = reparse(build_mime(message(ics=ics)))
    calendar = next(p for p in mime.walk() if p.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "CANCEL"


def test_non_ascii_subject_and_body_survive_as_7bit() -> None:
    """UTF-8 subject and bodies are encoded for 7-bit transport and decode back intact."""
    msg = message(subject="[CR-2026-0001 Kind Ö] Frühe Rückmeldung — €", text="Grüße\n" + "é" * 300)
    raw = build_mime(msg).as_bytes()
    assert max(raw) < 128
    assert all(len(line) <= 998 for line in raw.split(b"\n"))
    mime = reparse(build_mime(msg))
    assert mime["Subject"] == msg.subject
    text = mime.get_body(("plain",))
    assert isinstance(text, EmailMessage)
    assert text.get_content().rstrip("\n") == msg.text


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"message_id": "no-brackets@scr.local"}, "malformed Message-ID"),
        ({"date": datetime(2026, 12, 1, 9, 0)}, "timezone-aware"),
        ({"ics": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}, "METHOD"),
    ],
)
def test_bad_messages_are_refused(changes: dict[str, object], error: str) -> None:
    """A message that cannot be built correctly raises ValueError."""
    with pytest.raises(ValueError, match=error):
        build_mime(message(**changes))


def test_header_injection_is_impossible() -> None:
    """A line break in a header value is refused, not turned into a second header."""
    with pytest.raises(ValueError):
        build_mime(message(subject="Hi\r\nBcc: someone@example.org"))


def test_message_id_is_deterministic_per_key() -> None:
    """The same key gives the same Message-ID; another key or domain gives another."""
    first = make_message_id("outbox-3f2a", "scr.local")
    assert first == make_message_id("outbox-3f2a", "scr.local")
    assert first != make_message_id("outbox-3f2b", "scr.local")
    assert first.startswith("<") and first.endswith("@scr.local>")
    assert make_message_id("outbox-3f2a", "board.example") != first
    with pytest.raises(ValueError):
        make_message_id("outbox-1", "bad domain>")
    with pytest.raises(ValueError):
        make_message_id("", "scr.local")


def test_back_off_doubles_from_a_minute_up_to_six_hours() -> None:
    """Retry delays: 1, 2, 4, 8 ... minutes, capped at 6 hours, the same every time."""
    delays = [(next_attempt_at(n, NOW) - NOW).total_seconds() for n in range(1, 12)]
    assert delays == [60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600]
    assert next_attempt_at(10_000, NOW) == NOW + timedelta(hours=6)
    assert next_attempt_at(3, NOW, base_seconds=10, cap_seconds=30) == NOW + timedelta(seconds=30)
    assert next_attempt_at(2, NOW, base_seconds=10) == NOW + timedelta(seconds=20)


def test_back_off_refuses_nonsense() -> None:
    """Zero attempts or a naive 'now' are programming errors."""
    with pytest.raises(ValueError):
        next_attempt_at(0, NOW)
    with pytest.raises(ValueError):
        next_attempt_at(1, datetime(2026, 12, 1, 9, 0))
