"""What a notification says: the input the engine fills and the rendered output.

The engine decides which safe facts go into a `Notice`; the templates may print
only these fields (a test checks every template against this list). A child's
name, date of birth and the referral's free text never belong here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Deadline:
    label: str
    due_at: datetime

    def __post_init__(self) -> None:
        # A naive time would be shown in the wrong zone for half the year.
        if self.due_at.tzinfo is None or self.due_at.utcoffset() is None:
            raise ValueError(f"deadline {self.label!r} needs a timezone-aware due_at")


@dataclass(frozen=True)
class Notice:
    template: str
    board_name: str
    case_ref: str
    pseudonym: str
    state: str
    state_label: str
    source: str | None
    event_label: str
    actor: str
    reason: str | None
    details: tuple[tuple[str, str], ...]
    next_deadline: Deadline | None
    recipient_name: str
    recipient_role: str
    level: str | None = None
    late_by: timedelta | None = None
    reasons: tuple[str, ...] = ()
    timezone: str = "Europe/London"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def subject(notice: Notice) -> str:
    """The subject line: "[CR-2026-0001 Child K] Information requested from agencies"."""
    # Header values must not contain line breaks; collapse all whitespace.
    return " ".join(f"[{notice.case_ref} {notice.pseudonym}] {notice.event_label}".split())
