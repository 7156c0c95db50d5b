"""What a setting's value may be. Each kind reads one value from the file or the
environment and refuses anything else with one line naming the setting; its `about` says
the same in words, for the error message and for docs/configuration.md alike."""

from __future__ import annotations

import math
import re
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scr.states.errors import InvalidInput
from scr.states.params import clean_text

_SLUG = re.compile(r"[a-z][a-z0-9_]{1,59}\Z")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\Z")


class Kind:
    """A kind of value: `read` gives the setting's value from what the file or the
    environment holds, or refuses it. This one, the base of the others, is text."""

    about = "text"

    def read(self, value: Any, where: str) -> Any:
        if not isinstance(value, str):
            raise InvalidInput(f"config: {where} must be text")
        return value

    def refuse(self, where: str, got: str = "") -> InvalidInput:
        return InvalidInput(f"config: {where} must be {self.about}{got}")


TEXT = Kind()


class Line(Kind):
    """One line of text that goes into a mail header: not empty, no control characters (a
    line break in it would start a header of its own)."""

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self.about = f"one line of text, at most {max_length} characters"

    def read(self, value: Any, where: str) -> str:
        text = clean_text(super().read(value, where), f"config: {where}", self.max_length)
        if not text:
            raise InvalidInput(f"config: {where} must not be empty")
        return text


class MailAddress(Line):
    """One address, bare or with a display name ("Anyshire SCP <scr@anyshire.gov.uk>")."""

    def __init__(self, max_length: int) -> None:
        super().__init__(max_length)
        self.about = 'one e-mail address, e.g. "Anyshire SCP <scr@anyshire.gov.uk>"'

    def read(self, value: Any, where: str) -> str:
        return self.check(super().read(value, where), where)

    def check(self, text: str, where: str) -> str:
        from email.utils import getaddresses

        found = getaddresses([text])
        address = found[0][1] if len(found) == 1 else ""
        local, at, domain = address.rpartition("@")
        if not (at and local and _DOMAIN.match(domain)) or ".." in domain or " " in address:
            raise self.refuse(where, f" (got {text[:60]!r})")
        return text


class Pattern(Kind):
    """Text matching `pattern`; `shown`: the refusal quotes the value's start."""

    def __init__(self, pattern: str, about: str, *, strip: str = "", shown: bool = True):
        self.pattern, self.about = re.compile(pattern), about
        self.strip, self.shown = strip, shown

    def read(self, value: Any, where: str) -> str:
        text = super().read(value, where).rstrip(self.strip)
        if not self.pattern.match(text):
            raise self.refuse(where, f" (got {text[:20]!r})" if self.shown else "")
        return str(text)


class Number(Kind):
    """A number within bounds: outside them a value is a mistake (a retry every 10^30
    seconds, a zero batch, a session of `inf` hours), not a choice."""

    def __init__(self, least: float, most: float, *, whole: bool = False) -> None:
        self.least, self.most, self.whole = least, most, whole
        self.about = f"{'a whole number' if whole else 'a number'} from {least:g} to {most:g}"

    def read(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or (self.whole and not isinstance(value, int)) \
                or not math.isfinite(value) or not self.least <= value <= self.most:
            raise self.refuse(where, f" (got {str(value)[:20]})")
        return int(value) if self.whole else float(value)


class Slugs(Kind):
    def __init__(self, *, empty: bool) -> None:
        self.empty = empty
        self.about = "a list of lower-case slugs"

    def read(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not (value or self.empty) or not all(
                isinstance(v, str) and _SLUG.match(v) for v in value):
            raise self.refuse(where)
        return tuple(dict.fromkeys(value))


class OneOf(Kind):
    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices
        self.about = f"one of {', '.join(choices)}"

    def read(self, value: Any, where: str) -> str:
        if value not in self.choices:
            raise self.refuse(where)
        return str(value)


class Version(Kind):
    about = 'text, e.g. "1"'

    def read(self, value: Any, where: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.refuse(where)
        return str(value)


class Zone(Kind):
    about = "a time zone, e.g. Europe/London"

    def read(self, value: Any, where: str) -> str:
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"config: unknown time zone {value!r}") from None
        return str(value)


class ClockTime(Kind):
    about = "a time like 09:00"

    def read(self, value: Any, where: str) -> time:
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            raise InvalidInput(f"config: {where.rpartition('.')[2]} {value!r} is not "
                               f"{self.about}") from None


class Offsets(Kind):
    """`[timers]`: a distance by timer key, checked against the definitions when the process
    configuration is built (ProcessConfig.with_offsets)."""

    about = "a distance for each timer key: working days (wd), days (d) or months (m)"

    def read(self, value: Any, where: str) -> dict[str, str]:
        return {str(k): str(v) for k, v in value.items()}


class Table(Kind):
    """A table of settings of its own (`[web.oidc]`), each a setting in the table."""

    about = "a table of the settings below"

    def read(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise InvalidInput(f"config: {where} must be a table ([{where}])")
        return value


class Folder(Kind):
    about = "a folder"

    def read(self, value: Any, where: str) -> Path:
        return Path(value)


class Flag(Kind):
    about = "1: on"

    def read(self, value: Any, where: str) -> bool:
        return bool(value == "1")


class YesNo(Kind):
    about = "true or false"

    def read(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.refuse(where)
        return value


class SmtpUrl(Kind):
    """Checked when it is read: a URL scr cannot send through is an error at start (the
    message shows it with any password hidden), not a failure of every send."""

    about = "an smtp://, smtp+starttls:// or smtps:// URL"

    def read(self, value: Any, where: str) -> str:
        from scr.handlers.transport import SmtpTransport

        try:
            SmtpTransport.from_url(value)
        except (ValueError, OSError) as exc:
            raise InvalidInput(f"{where}: {exc}") from None
        return str(value)
