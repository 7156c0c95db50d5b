"""TEMPORARY interface stub; replaced by the handlers branch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Deadline:
    label: str
    due_at: datetime


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
