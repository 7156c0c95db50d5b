"""RFC 5545 calendar invitations for deadlines and meetings.

Written by hand with the standard library: the format needed is small (one
VEVENT), the `icalendar` package is only a development dependency (the tests
parse every produced file with it), and doing the folding and escaping here
keeps the output byte-for-byte predictable.

A recipient's calendar matches entries by UID. To move a deadline, send the
same UID with a higher SEQUENCE; to withdraw it, send METHOD:CANCEL with the
same UID and a higher SEQUENCE (`cancellation()` does that).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

PRODID = "-//scr//Case review lifecycle orchestrator//EN"
METHODS = ("REQUEST", "CANCEL")
_LINE_OCTETS = 75  # RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets, CRLF excluded


@dataclass(frozen=True, kw_only=True)
class CalendarEntry:
    """One event. Keyword-only, so that `stamp` can be required and sit where it reads well."""

    uid: str
    sequence: int
    method: str
    summary: str
    description: str
    start: datetime
    stamp: datetime  # DTSTAMP: when this version was produced (passed in, never the clock)
    duration_minutes: int = 30
    all_day: bool = False
    timezone: str = "Europe/London"
    organizer: str = ""
    attendees: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.uid.strip():
            raise ValueError("a calendar entry needs a UID")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")
        if self.sequence < 0:
            raise ValueError("sequence cannot be negative")
        if self.duration_minutes <= 0:
            raise ValueError("duration_minutes must be positive")
        for name in ("start", "stamp"):
            moment: datetime = getattr(self, name)
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware")
        ZoneInfo(self.timezone)


def entry_json(*, uid: str, sequence: int, method: str, summary: str, description: str,
               start: datetime, all_day: bool, timezone: str, organizer: str,
               attendee: str) -> dict[str, Any]:
    """An entry as the outbox keeps it until delivery; its DTSTAMP is given then."""
    return {"uid": uid, "sequence": sequence, "method": method, "summary": summary,
            "description": description, "start": start.isoformat(), "all_day": all_day,
            "timezone": timezone, "organizer": organizer, "attendee": attendee}


def entry_from_json(data: dict[str, Any], *, stamp: datetime) -> CalendarEntry:
    """The entry `entry_json` stored, stamped at `stamp`."""
    return CalendarEntry(
        uid=data["uid"], sequence=data["sequence"], method=data["method"],
        summary=data["summary"], description=data["description"],
        start=datetime.fromisoformat(data["start"]), stamp=stamp, all_day=data["all_day"],
        timezone=data["timezone"], organizer=data["organizer"],
        attendees=(data["attendee"],),
    )


def cancellation(entry: CalendarEntry, *, stamp: datetime) -> CalendarEntry:
    """The CANCEL that withdraws `entry` from the recipients' calendars."""
    return replace(entry, method="CANCEL", sequence=entry.sequence + 1, stamp=stamp)


def to_ics(entry: CalendarEntry) -> str:
    """The entry as an iCalendar object: CRLF line ends, folded at 75 octets."""
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"METHOD:{entry.method}",
        "BEGIN:VEVENT",
        f"UID:{escape_text(entry.uid)}",
        f"SEQUENCE:{entry.sequence}",
        f"DTSTAMP:{_utc(entry.stamp)}",
        *_when(entry),
        f"SUMMARY:{escape_text(entry.summary)}",
        f"DESCRIPTION:{escape_text(entry.description)}",
    ]
    if entry.organizer:
        lines.append(_address("ORGANIZER", entry.organizer))
    lines += [_address("ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=FALSE", a) for a in entry.attendees]
    lines += [
        "STATUS:CANCELLED" if entry.method == "CANCEL" else "STATUS:CONFIRMED",
        # A deadline should not show the recipient as busy.
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line into 75-octet pieces, never splitting a UTF-8 character."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    limit = _LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [], 0
            limit = _LINE_OCTETS - 1  # continuation lines start with one space
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _when(entry: CalendarEntry) -> list[str]:
    if entry.all_day:
        day = entry.start.astimezone(ZoneInfo(entry.timezone)).date()
        return [
            f"DTSTART;VALUE=DATE:{_date(day)}",
            f"DTEND;VALUE=DATE:{_date(day + timedelta(days=1))}",
        ]
    end = entry.start + timedelta(minutes=entry.duration_minutes)
    return [f"DTSTART:{_utc(entry.start)}", f"DTEND:{_utc(end)}"]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _date(day: date) -> str:
    return day.strftime("%Y%m%d")


def _address(prefix: str, address: str) -> str:
    """ORGANIZER/ATTENDEE from "Name <addr>" or "addr": CN parameter and mailto: URI."""
    name, addr = parseaddr(address)
    if not addr or "@" not in addr:
        raise ValueError(f"not an e-mail address: {address!r}")
    # A quoted parameter value may hold ; : and , but no double quote or control character.
    common_name = "".join(c for c in name if c >= " " and c != "\x7f").replace('"', "'").strip()
    cn = f';CN="{common_name}"' if common_name else ""
    return f"{prefix}{cn}:mailto:{addr}"
