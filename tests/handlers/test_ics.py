from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from scr.handlers.ics import CalendarEntry, cancellation, to_ics

STAMP = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
START = datetime(2026, 12, 4, 10, 15, tzinfo=UTC)

# RFC 5545 3.1 contentline: name *(";" param) ":" value, no control characters but HTAB.
_PARAM_VALUE = r'(?:"[^"\x00-\x08\x0a-\x1f\x7f]*"|[^";:,\x00-\x08\x0a-\x1f\x7f]*)'
_PARAM = rf"[A-Za-z0-9-]+={_PARAM_VALUE}(?:,{_PARAM_VALUE})*"
CONTENT_LINE = re.compile(rf"[A-Za-z0-9-]+(?:;{_PARAM})*:[^\x00-\x08\x0a-\x1f\x7f]*\Z")
TEXT_PROPERTIES = ("UID", "SUMMARY", "DESCRIPTION")


def entry(**changes: object) -> CalendarEntry:
    base = CalendarEntry(
        uid="timer-CR-2026-0001-returns.due@scr",
        sequence=0,
        method="REQUEST",
        summary="CR-2026-0001 Child K: agency returns due",
        description="Agency returns for CR-2026-0001 are due.",
        start=START,
        stamp=STAMP,
        organizer="Anyshire SCB <scr@localhost>",
        attendees=("Pat Lee <pat.lee@health.example>", "police.lead@police.example"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def physical_lines(ics: str) -> list[str]:
    assert ics.endswith("\r\n")
    return ics[:-2].split("\r\n")


def logical_lines(ics: str) -> list[str]:
    return ics.replace("\r\n ", "").removesuffix("\r\n").split("\r\n")


def check_strictly(ics: str) -> icalendar.Event:
    """Check the RFC 5545 rules icalendar's lenient parser lets pass, then parse with it."""
    assert "\n" not in ics.replace("\r\n", "") and "\r" not in ics.replace("\r\n", "")
    for line in physical_lines(ics):
        assert len(line.encode("utf-8")) <= 75, line
    for line in logical_lines(ics):
        assert CONTENT_LINE.match(line), line
        name, _, value = line.partition(":")
        if name in TEXT_PROPERTIES:
            # Once every escape is removed, no bare backslash, comma or semicolon remains.
            assert not re.search(r"[\\;,]", re.sub(r"\\[\\;,nN]", "", value)), line
    calendar = icalendar.Calendar.from_ical(ics)
    assert isinstance(calendar, icalendar.Calendar)
    assert calendar.errors == []
    events = calendar.walk("VEVENT")
    assert len(events) == 1 and events[0].errors == []
    event = events[0]
    assert isinstance(event, icalendar.Event)
    return event


def test_request_parses_with_every_required_property() -> None:
    """A REQUEST has PRODID, VERSION, METHOD and one VEVENT with the entry's values."""
    ics = to_ics(entry())
    event = check_strictly(ics)
    calendar = icalendar.Calendar.from_ical(ics)
    assert isinstance(calendar, icalendar.Calendar)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["METHOD"]) == "REQUEST"
    assert "scr" in str(calendar["PRODID"])
    assert str(event["UID"]) == "timer-CR-2026-0001-returns.due@scr"
    assert event.decoded("SEQUENCE") == 0
    assert event.decoded("DTSTAMP") == STAMP
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(minutes=30)
    assert str(event["SUMMARY"]) == "CR-2026-0001 Child K: agency returns due"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:scr@localhost"
    assert event["ORGANIZER"].params["CN"] == "Anyshire SCB"
    attendees = event["ATTENDEE"]
    assert isinstance(attendees, list)
    assert [str(a) for a in attendees] == [
        "mailto:pat.lee@health.example",
        "mailto:police.lead@police.example",
    ]
    assert "DTSTART:20261204T101500Z" in logical_lines(ics)
    assert "DTSTAMP:20261120T080000Z" in logical_lines(ics)


def test_times_are_written_in_utc_whatever_zone_they_arrive_in() -> None:
    """An aware local start (BST) is written as its UTC 'Z' moment."""
    from zoneinfo import ZoneInfo

    local = datetime(2026, 6, 5, 10, 15, tzinfo=ZoneInfo("Europe/London"))
    lines = logical_lines(to_ics(entry(start=local, duration_minutes=60)))
    assert "DTSTART:20260605T091500Z" in lines
    assert "DTEND:20260605T101500Z" in lines


def test_text_values_are_escaped() -> None:
    """Backslash, semicolon, comma and newlines are escaped, and parse back to the original."""
    description = "Returns: health, police; see C:\\cases\nSecond line\r\nThird"
    ics = to_ics(entry(description=description, summary="A, B; C"))
    lines = logical_lines(ics)
    assert "DESCRIPTION:Returns: health\\, police\\; see C:\\\\cases\\nSecond line\\nThird" in (
        lines
    )
    assert "SUMMARY:A\\, B\\; C" in lines
    event = check_strictly(ics)
    assert str(event["DESCRIPTION"]) == "Returns: health, police; see C:\\cases\nSecond line\nThird"
    assert str(event["SUMMARY"]) == "A, B; C"


def test_long_multibyte_lines_fold_at_75_octets_without_splitting_characters() -> None:
    """Folded lines are at most 75 octets, each valid UTF-8, and unfold to the original."""
    summary = "CR-2026-0001 Kind Ä: " + "Frühstück €uro 𝄞 " * 12
    ics = to_ics(entry(summary=summary, description="é" * 200))
    raw = ics.encode("utf-8")
    for line in raw[:-2].split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # a character cut in half would fail here
    continuation = [line for line in physical_lines(ics) if line.startswith(" ")]
    assert len(continuation) > 4
    event = check_strictly(ics)
    assert str(event["SUMMARY"]) == summary
    assert str(event["DESCRIPTION"]) == "é" * 200


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=400),
       st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200))
# A backslash before an N, which icalendar's own escaping (7.3) took for a line break.
@example(summary="C:\\Notes", text="\\N")
def test_any_text_is_folded_escaped_and_read_back_unchanged(summary: str, text: str) -> None:
    """For any summary and description: every line within 75 octets, no bare special in a
    TEXT value, and the calendar reads back what was given, its line breaks as LF and
    without the control characters a TEXT value may not hold."""
    event = check_strictly(to_ics(entry(summary=summary, description=text)))

    def kept(value: str) -> str:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        return "".join(c for c in value if (c >= " " and c != "\x7f") or c in "\t\n")

    assert str(event["SUMMARY"]) == kept(summary)
    assert str(event["DESCRIPTION"]) == kept(text)


def test_cancel_replaces_the_request() -> None:
    """CANCEL keeps the UID, raises SEQUENCE and says STATUS:CANCELLED."""
    request = entry(sequence=2)
    cancel = cancellation(request, stamp=STAMP + timedelta(days=3))
    ics = to_ics(cancel)
    event = check_strictly(ics)
    calendar = icalendar.Calendar.from_ical(ics)
    assert isinstance(calendar, icalendar.Calendar)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == request.uid
    assert event.decoded("SEQUENCE") == 3
    assert event.decoded("DTSTAMP") == STAMP + timedelta(days=3)


def test_all_day_entry_uses_the_local_date() -> None:
    """All-day: VALUE=DATE on the date in Europe/London (23:30 UTC in June is the next day)."""
    late_evening = datetime(2026, 6, 4, 23, 30, tzinfo=UTC)
    ics = to_ics(entry(start=late_evening, all_day=True))
    lines = logical_lines(ics)
    assert "DTSTART;VALUE=DATE:20260605" in lines
    assert "DTEND;VALUE=DATE:20260606" in lines
    event = check_strictly(ics)
    assert event.decoded("DTSTART") == date(2026, 6, 5)


def test_without_organizer_or_attendees_the_event_still_parses() -> None:
    """Organizer and attendees are optional; the rest stays valid."""
    event = check_strictly(to_ics(entry(organizer="", attendees=())))
    assert "ORGANIZER" not in event and "ATTENDEE" not in event


def test_organizer_name_cannot_break_the_parameter() -> None:
    """Quotes and separators in a display name stay inside one quoted CN value."""
    ics = to_ics(entry(organizer='"Board; Team, North" <scr@localhost>'))
    event = check_strictly(ics)
    assert str(event["ORGANIZER"]) == "mailto:scr@localhost"
    assert event["ORGANIZER"].params["CN"] == "Board; Team, North"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"method": "PUBLISH"}, "method must be one of"),
        ({"start": datetime(2026, 12, 4, 10, 15)}, "start must be timezone-aware"),
        ({"stamp": datetime(2026, 12, 4, 10, 15)}, "stamp must be timezone-aware"),
        ({"sequence": -1}, "negative"),
        ({"uid": " "}, "UID"),
        ({"duration_minutes": 0}, "positive"),
    ],
)
def test_invalid_entries_are_refused(changes: dict[str, object], message: str) -> None:
    """An entry that would produce a wrong or ambiguous invitation cannot be built."""
    with pytest.raises(ValueError, match=message):
        entry(**changes)


def test_bad_attendee_address_is_refused() -> None:
    """An attendee that is not an address fails instead of writing a broken ATTENDEE line."""
    with pytest.raises(ValueError, match="not an e-mail address"):
        to_ics(entry(attendees=("Pat Lee",)))
