"""Render a `Notice` into an e-mail subject, plain-text body and HTML body.

Each template name has exactly two files in `templates/`: `<name>.txt` and
`<name>.html` (for example `request_information.txt`, `timer.returns.html`),
extending the shared layouts `layout.txt` and `layout.html`; a regime's wording
(`cspr/refer.txt`) extends the shared template instead (handlers/catalogue.py).
The layout says what to do in one block per recipient role (`business_manager`,
`chair`, ...): a template fills the blocks of the roles it has words for, and a
role whose block it leaves empty is told that the message is for information.
Commands come from the case's definition (handlers/commands.py). There is no
fallback: a name without its templates, a timer level its ladder does not have,
or a command its definition does not have raises a LookupError, because a wrong
or generic message about a child's case is worse than a loud failure the engine
will retry and report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from scr.handlers.catalogue import (
    REGIME_TEMPLATES,
    SHARED_TEMPLATES,
    SYSTEM_TEMPLATES,
    TEMPLATE_NAMES,
    TIMER_PREFIX,
    TRIGGER_TEMPLATES,
    template_files,
)
from scr.handlers.commands import Means, UnknownCommand, aside
from scr.handlers.notices import CommandLine, Notice, Rendered, subject

__all__ = ["REGIME_TEMPLATES", "ROLE_LABELS", "SHARED_TEMPLATES", "SYSTEM_TEMPLATES",
           "TEMPLATE_NAMES", "TRIGGER_TEMPLATES", "UnknownCommand",
           "UnknownTemplate", "duration", "environment", "local_time", "render",
           "role_label", "state_name", "subject", "template_files"]

# The roles in the shared words, for a notice that carries none of its regime's (one queued
# before notices did). handlers/ imports nothing of the project, so this mirrors
# states/words.py's table; tests/lifecycle/test_words.py checks that the two agree.
ROLE_LABELS: Mapping[str, str] = {
    "business_manager": "business manager",
    "chair": "independent chair",
    "subgroup_chair": "case review sub-group chair",
    "subgroup_member": "case review sub-group member",
    "agency_lead": "agency safeguarding lead",
    "lead_reviewer": "lead reviewer",
    "auditor": "auditor",
    "action_owner": "action owner",
    "safeguarding_partner": "safeguarding partner",
    "scrutineer": "independent scrutineer",
    "lead_safeguarding_partner": "lead safeguarding partner",
    "partnership_chair": "partnership chair",
}

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


class UnknownTemplate(LookupError):
    """The notice names a template, or a timer level, that does not exist."""


def render(notice: Notice, commands: CommandLine | None = None) -> Rendered:
    """Render `notice`, its commands checked against and made from `commands` (the case's
    definition; delivery always gives it). Without it nobody is shown a command line and
    the commands' names go unchecked. Raises `UnknownTemplate` or `UnknownCommand` (both
    LookupErrors) or `ValueError` for a bad notice."""
    _check(notice)
    env = environment()
    # Only the fields declared on Notice reach the templates (not those of a subclass).
    context = {name: getattr(notice, name) for name in _NOTICE_FIELDS}
    text, html = (
        env.get_template(f"{notice.template}.{ext}").render(
            context, **Means(notice, commands, html=ext == "html").helpers())
        for ext in ("txt", "html"))
    return Rendered(subject=subject(notice), text=text, html=html)


def _check(notice: Notice) -> None:
    if notice.template not in TEMPLATE_NAMES:
        raise UnknownTemplate(
            f"no notification template named {notice.template!r}; "
            f"known: {', '.join(TEMPLATE_NAMES)}"
        )
    # Which levels a ladder announces is its definition's business (TimerSpec.announced,
    # checked where the notice is made); a timer's notice without one is a defect.
    if notice.template.rpartition("/")[2].startswith(TIMER_PREFIX) and notice.level is None:
        raise UnknownTemplate(f"template {notice.template!r} is a timer's: it has no level "
                              "without one")
    if notice.recipient_role not in ROLE_LABELS:
        raise ValueError(f"unknown recipient role {notice.recipient_role!r}")
    try:
        ZoneInfo(notice.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {notice.timezone!r}") from None


_NOTICE_FIELDS = tuple(f.name for f in fields(Notice))


@cache
def environment() -> Environment:
    """The one Jinja2 environment: HTML autoescaped, undefined names are errors."""
    env = Environment(
        loader=PackageLoader("scr.handlers", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The templates are package data: they do not change under a running process, so
        # a template once loaded is not checked against its file again for every message.
        auto_reload=False,
    )
    # No helpers such as range() or lipsum(): a template sees the Notice and, per body, the
    # commands of its case's definition (handlers/commands.py), nothing else.
    env.globals.clear()
    env.filters["aside"] = aside
    env.filters["local_time"] = local_time
    env.filters["duration"] = duration
    env.filters["role_label"] = role_label
    env.filters["state_name"] = state_name
    return env


def local_time(moment: datetime, timezone: str) -> str:
    """`moment` in `timezone`, e.g. "Friday 4 December 2026, 10:15" (locale-independent)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a time shown to people must be timezone-aware")
    local = moment.astimezone(ZoneInfo(timezone))
    return (
        f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}, "
        f"{local:%H:%M}"
    )


def duration(delta: timedelta) -> str:
    """A lateness in words, to the minute: "2 days, 3 hours and 5 minutes"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{n} {unit}{'' if n == 1 else 's'}"
        for n, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if n
    ]
    if not parts:
        return "less than a minute"
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def role_label(role: str, own: tuple[tuple[str, str], ...] = ()) -> str:
    """The role in the regime's words (`own`, the notice's role_words) or the shared ones."""
    return dict(own).get(role) or ROLE_LABELS.get(role, _words(role))


def _words(identifier: str) -> str:
    return re.sub(r"[_\s]+", " ", identifier).strip()


def state_name(state: str) -> str:
    """A state value as words, for a notice that does not carry the state's label
    ("sub_group" -> "Sub group")."""
    words = _words(state)
    return words[:1].upper() + words[1:]
