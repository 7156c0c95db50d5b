"""What a notification says: the input the engine fills and the rendered output.

The engine decides which safe facts go into a `Notice`; the templates may print
only these fields (a test checks every template against this list). A child's
name, date of birth and the referral's free text never belong here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

# A case of a regime is mailed with its folder's wording of a template where it has one
# (engine.py imports template_for from here).
from scr.handlers.catalogue import REGIME_TEMPLATES, template_for

__all__ = ["REGIME_TEMPLATES", "CommandLine", "Deadline", "Notice", "Rendered",
           "notice_from_json", "notice_to_json", "subject", "template_for"]

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
    # The case's page in the portal, and the forms of what the recipient's role may do next:
    # (role, label, address); delivery keeps the recipient's own (runtime.delivery.
    # addressed). The addresses carry the case reference only: no personal data and no
    # token (signing in is the portal's business).
    case_url: str | None = None
    act: tuple[tuple[str, str, str], ...] = ()
    # The earlier state in the words of the case's definition ("Safeguarding partners'
    # decision"), and the roles its regime names in words of its own (role, words): a CSPR
    # has no case review sub-group. Without them the state and the role are worded as
    # identifiers made into words.
    source_label: str | None = None
    role_words: tuple[tuple[str, str], ...] = ()
    # What the record is called: a "case", or a "review" on the learning register (a
    # notice stored before this field reads as a case).
    record: str = "case"
    # The definition the case runs under (its name and version): delivery renders the
    # notice with that definition's commands (CommandLine). A notice stored before these
    # fields has neither; delivery reads the case's.
    definition: str | None = None
    definition_version: str | None = None


@dataclass(frozen=True)
class CommandLine:
    """What an e-mail may tell its recipient to type, made from the case's definition:
    each trigger with the names of its parameters, and the roles whose people use the
    command line. A template names a command by its trigger (`command("record_return",
    agency="...")`); rendering fails if the definition has no such trigger or the trigger no
    such parameter, whoever the recipient. Only a recipient of one of `roles` is shown the
    command; anyone else is pointed to the portal's form, or told in words."""

    triggers: Mapping[str, tuple[str, ...]]
    roles: frozenset[str]

    def __post_init__(self) -> None:
        # `reason` is every trigger's --reason; a parameter of that name could not be told
        # from it.
        clash = sorted(t for t, params in self.triggers.items() if "reason" in params)
        if clash:
            raise ValueError(f"a parameter named 'reason' in {', '.join(clash)}")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def subject(notice: Notice) -> str:
    """The subject line: "[CR-2026-0001 Child K] Information requested from agencies"."""
    # Header values must not contain line breaks; collapse all whitespace.
    return " ".join(f"[{notice.case_ref} {notice.pseudonym}] {notice.event_label}".split())


_FIELDS = tuple(f.name for f in fields(Notice))


def notice_to_json(notice: Notice) -> dict[str, Any]:
    """The notice as the outbox keeps it until delivery (JSON-safe values only)."""
    data = {name: getattr(notice, name) for name in _FIELDS}
    data["details"] = [list(pair) for pair in notice.details]
    data["reasons"] = list(notice.reasons)
    data["act"] = [list(entry) for entry in notice.act]
    data["role_words"] = [list(pair) for pair in notice.role_words]
    data["late_by"] = notice.late_by.total_seconds() if notice.late_by is not None else None
    if notice.next_deadline is not None:
        data["next_deadline"] = {"label": notice.next_deadline.label,
                                 "due_at": notice.next_deadline.due_at.isoformat()}
    return data


def notice_from_json(data: dict[str, Any]) -> Notice:
    """The notice `notice_to_json` stored."""
    values = dict(data)
    values["details"] = tuple((str(k), str(v)) for k, v in data.get("details", ()))
    values["reasons"] = tuple(data.get("reasons", ()))
    values["act"] = tuple((str(r), str(label), str(url)) for r, label, url in data.get("act", ()))
    values["role_words"] = tuple((str(r), str(w)) for r, w in data.get("role_words", ()))
    late = data.get("late_by")
    values["late_by"] = timedelta(seconds=late) if late is not None else None
    deadline = data.get("next_deadline")
    values["next_deadline"] = (Deadline(deadline["label"],
                                        datetime.fromisoformat(deadline["due_at"]))
                               if deadline else None)
    return Notice(**values)
