"""From an outbox row to the message that is sent: the stored notice rendered by the
templates, and the stored calendar entry written as an .ics.

Queueing stores what to say (a Notice, as JSON) in the transition's own transaction;
rendering happens when the message is first claimed for delivery, so firing a trigger
never pays for templates. The rendered bodies are then kept on the row: a retry sends the
same words, and `scr outbox` shows what went out.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from handlers.notices import Deadline, Notice


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str
    ics: str | None


def notice_json(notice: Notice) -> dict[str, Any]:
    data = {f.name: getattr(notice, f.name) for f in fields(Notice)}
    data["details"] = [list(pair) for pair in notice.details]
    data["reasons"] = list(notice.reasons)
    data["late_by"] = notice.late_by.total_seconds() if notice.late_by is not None else None
    if notice.next_deadline is not None:
        data["next_deadline"] = {"label": notice.next_deadline.label,
                                 "due_at": notice.next_deadline.due_at.isoformat()}
    return data


def notice_from_json(data: dict[str, Any]) -> Notice:
    values = dict(data)
    values["details"] = tuple((str(k), str(v)) for k, v in data.get("details", ()))
    values["reasons"] = tuple(data.get("reasons", ()))
    late = data.get("late_by")
    values["late_by"] = timedelta(seconds=late) if late is not None else None
    deadline = data.get("next_deadline")
    values["next_deadline"] = (Deadline(deadline["label"],
                                        datetime.fromisoformat(deadline["due_at"]))
                               if deadline else None)
    return Notice(**values)


def calendar_json(*, uid: str, sequence: int, method: str, summary: str, description: str,
                  start: datetime, all_day: bool, timezone: str, organizer: str,
                  attendee: str) -> dict[str, Any]:
    return {"uid": uid, "sequence": sequence, "method": method, "summary": summary,
            "description": description, "start": start.isoformat(), "all_day": all_day,
            "timezone": timezone, "organizer": organizer, "attendee": attendee}


def compose(notice: dict[str, Any], calendar: dict[str, Any] | None,
            created_at: datetime) -> Composed:
    """Render a stored notice (and calendar entry); raises if a template fails."""
    from handlers.calendar import CalendarEntry, to_ics
    from handlers.render import render

    rendered = render(notice_from_json(notice))
    ics = None
    if calendar is not None:
        ics = to_ics(CalendarEntry(
            uid=calendar["uid"], sequence=calendar["sequence"], method=calendar["method"],
            summary=calendar["summary"], description=calendar["description"],
            start=datetime.fromisoformat(calendar["start"]), stamp=created_at,
            all_day=calendar["all_day"], timezone=calendar["timezone"],
            organizer=calendar["organizer"], attendees=(calendar["attendee"],),
        ))
    return Composed(rendered.subject, rendered.text, rendered.html, ics)


def composed(row: Any) -> Composed:
    """What an outbox row says: its kept bodies once rendered, else rendered now."""
    if row.body_text or row.notice is None:
        return Composed(row.subject, row.body_text, row.body_html, row.ics)
    return compose(row.notice, row.calendar, row.created_at)
