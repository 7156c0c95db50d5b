"""RFC 5545 calendar invitations for deadlines and meetings.

Written with the `icalendar` package, which folds, escapes and quotes as RFC 5545
says (the tests parse every file it writes, and check the rules its lenient
parser would let pass).

A recipient's calendar matches entries by UID. To move a deadline, send the
same UID with a higher SEQUENCE; to withdraw it, send METHOD:CANCEL with the
same UID and a higher SEQUENCE (`cancellation()` does that).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//scr//Case review lifecycle orchestrator//EN"
METHODS = ("REQUEST", "CANCEL")


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
    """The entry as an iCalendar object (RFC 5545), written by `icalendar`: CRLF line ends,
    lines folded at 75 octets, TEXT values escaped, parameter values quoted."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", entry.method)
    event = Event()
    event.add("uid", entry.uid)
    event.add("sequence", entry.sequence)
    event.add("dtstamp", entry.stamp.astimezone(UTC))
    if entry.all_day:
        day = entry.start.astimezone(ZoneInfo(entry.timezone)).date()
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
    else:
        event.add("dtstart", entry.start.astimezone(UTC))
        event.add("dtend", (entry.start + timedelta(minutes=entry.duration_minutes))
                  .astimezone(UTC))
    event.add("summary", _Text(_text(entry.summary)))
    event.add("description", _Text(_text(entry.description)))
    if entry.organizer:
        event.add("organizer", _address(entry.organizer))
    for attendee in entry.attendees:
        event.add("attendee", _address(attendee, ROLE="REQ-PARTICIPANT", RSVP="FALSE"))
    event.add("status", "CANCELLED" if entry.method == "CANCEL" else "CONFIRMED")
    event.add("transp", "TRANSPARENT")  # a deadline should not show the recipient as busy
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


def _text(value: str) -> str:
    """A TEXT value holds no control character but the tab and line breaks (RFC 5545
    3.3.11, which icalendar escapes); any other is dropped."""
    return "".join(c for c in value if c >= " " or c in "\t\r\n").replace("\x7f", "")


class _Text(vText):
    """A TEXT value escaped as RFC 5545 3.3.11 asks. icalendar's escaping (7.3) first reads
    a backslash followed by N in the text as a line break, so a text quoting `\\N` would
    lose its backslash: the backslashes stand aside (as NUL, which a TEXT value never holds:
    `_text` drops it) while icalendar escapes the rest, and come back escaped."""

    def to_ical(self) -> bytes:
        escaped = vText(str(self).replace("\\", "\x00")).to_ical().decode("utf-8")
        return escaped.replace("\x00", "\\\\").encode("utf-8")


def _address(address: str, **params: str) -> vCalAddress:
    """ORGANIZER/ATTENDEE from "Name <addr>" or "addr": the mailto: URI, its CN parameter."""
    name, addr = parseaddr(address)
    if not addr or "@" not in addr:
        raise ValueError(f"not an e-mail address: {address!r}")
    found = vCalAddress(f"mailto:{addr}")
    # A quoted parameter value may hold ; : and , but no double quote or control character.
    common_name = "".join(c for c in name if c >= " " and c != "\x7f").replace('"', "'").strip()
    if common_name:
        found.params["CN"] = common_name
    found.params.update(params)
    return found
