"""Trigger parameters: their declared types and the one parser every entry point uses.

Values arrive as strings from the command line (`agencies=health,police`) or typed from a
JSON referral file; both go through `parse_params`, which raises `InvalidInput` (exit 2)
before any guard runs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from scr.states.enums import DEFAULT_THEMES, MULTI_AGENCY
from scr.states.errors import InvalidInput

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A case reference as the board gives them: its prefix, the year, a number (CR-2026-0001).
_CASE_REF = re.compile(r"[A-Za-z][A-Za-z0-9]{0,9}-\d{4}-\d{4,9}")
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


class PType(StrEnum):
    TEXT = "text"  # one line
    LONG_TEXT = "long_text"  # may hold line breaks
    BOOL = "bool"
    DATE = "date"
    INT = "int"
    CHOICE = "choice"
    CHOICES = "choices"  # a list of values from `choices`
    AGENCY = "agency"
    AGENCIES = "agencies"
    NUMBERS = "numbers"  # a list of whole numbers from 1 (action numbers)
    THEMES = "themes"  # a list from the board's learning themes (`[learning] themes`)
    CASE = "case"  # another case's reference: the engine checks that the board has it


@dataclass(frozen=True)
class Param:
    name: str
    type: PType
    required: bool = True
    choices: tuple[str, ...] = ()
    default: Any = None
    # Free text about a child or family: stored in its own table, shown only to permitted
    # users, and never copied into history, logs or e-mail.
    private: bool = False
    # Text a person types that is kept for good (SECURITY.md, "Free text"): the prompt warns
    # that it must not name the child or family.
    free_text: bool = False
    # False: never stated in e-mail (text that may hold case detail, or facts the e-mail
    # has no need of). Private parameters are never mailed either.
    mailed: bool = True
    # False: history records "(stored)" in its place, as for private text; only for text
    # that its own table keeps.
    in_history: bool = True
    not_future: bool = False
    multi_agency: bool = False  # AGENCY: also accept `multi_agency`
    # INT: the number of one of the case's own actions (checked against them, completed from
    # them, and the action the e-mail goes out about).
    names_action: bool = False
    # DATE: a day ahead the recipients get a calendar invitation for (a sub-group meeting).
    invites: bool = False
    max_length: int = 500
    help: str = ""

    def describe(self) -> str:
        kind = {
            PType.TEXT: "text",
            PType.LONG_TEXT: "text",
            PType.BOOL: "true or false",
            PType.DATE: "a date YYYY-MM-DD",
            PType.INT: "a whole number",
            PType.CHOICE: "one of " + ", ".join(self.choices),
            PType.CHOICES: "comma-separated, from " + ", ".join(self.choices),
            PType.AGENCY: "an agency",
            PType.AGENCIES: "comma-separated agencies",
            PType.NUMBERS: "comma-separated numbers",
            PType.THEMES: "comma-separated themes",
            PType.CASE: "a case reference, e.g. CR-2026-0001",
        }[self.type]
        need = "" if self.required else ", optional"
        return f"{self.name} ({kind}{need})"

    def caution(self) -> str:
        """The warning the prompt gives with free text: where it is kept, where it goes."""
        return caution(in_history=self.in_history, mailed=self.mailed) if self.free_text else ""


def caution(*, in_history: bool = True, mailed: bool = True) -> str:
    """The warning for text a person types that is kept for good (SECURITY.md, "Free text")."""
    kept = "in the case's history" if in_history else "in the case record"
    sent = "and sent in e-mail" if mailed else "(never e-mailed)"
    return f"kept for good {kept} {sent}: never name the child or family"


# A trigger's reason is kept in its history row and stated in its e-mail.
REASON_CAUTION = caution()


def parse_params(
    specs: Iterable[Param],
    raw: Mapping[str, Any],
    *,
    agencies: tuple[str, ...],
    today: date,
    context: str,
    themes: tuple[str, ...] = DEFAULT_THEMES,
) -> dict[str, Any]:
    """Check and convert `raw` against `specs`; unknown, missing or malformed is InvalidInput
    (its message the first problem, its `fields` every one: `parse_each`).

    `context` names what the parameters are for (a trigger), for the error message.
    Optional parameters that are absent take their default.
    """
    parsed, problems = parse_each(specs, raw, agencies=agencies, today=today,
                                  context=context, themes=themes)
    if problems:
        raise InvalidInput(next(iter(problems.values())), fields=problems)
    return parsed


def parse_each(
    specs: Iterable[Param],
    raw: Mapping[str, Any],
    *,
    agencies: tuple[str, ...],
    today: date,
    context: str,
    themes: tuple[str, ...] = DEFAULT_THEMES,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Each parameter checked and converted on its own, so that one bad value hides none of
    the others: the values (None for a missing or malformed one) and each problem by the
    parameter's name (an unknown parameter by its own), unknown ones first."""
    by_name = {p.name: p for p in specs}
    expected = ", ".join(by_name) or "none"
    problems = {key: f"unknown parameter {key!r} for {context} (expected: {expected})"
                for key in sorted(set(raw) - set(by_name))}
    parsed: dict[str, Any] = {}
    for spec in by_name.values():
        if spec.name not in raw or raw[spec.name] is None:
            if spec.required:
                problems[spec.name] = f"missing parameter for {context}: {spec.describe()}"
            parsed[spec.name] = None if spec.required else spec.default
            continue
        try:
            parsed[spec.name] = _convert(spec, raw[spec.name], agencies, today, themes)
        except InvalidInput as exc:
            problems[spec.name] = str(exc)
            parsed[spec.name] = None
    return parsed, problems


def _convert(spec: Param, value: Any, agencies: tuple[str, ...], today: date,
             themes: tuple[str, ...] = DEFAULT_THEMES) -> Any:
    def bad(why: str) -> InvalidInput:
        shown = _shown(value)
        return InvalidInput(f"{spec.name}: {why} (got {shown}; expected {spec.describe()})")

    t = spec.type
    if t in (PType.TEXT, PType.LONG_TEXT):
        if not isinstance(value, str):
            raise bad("not text")
        return clean_text(value, spec.name, spec.max_length, multiline=t is PType.LONG_TEXT)
    if t is PType.BOOL:
        return _to_bool(value, bad)
    if t is PType.INT:
        if isinstance(value, bool):
            raise bad("not a whole number")
        if isinstance(value, str) and re.fullmatch(r"\s*\d{1,9}\s*", value):
            value = int(value)
        if not isinstance(value, int) or not 0 < value < 10**9:
            raise bad("not a whole number from 1")
        return value
    if t is PType.DATE:
        return _to_date(spec, value, today, bad)
    if t is PType.CHOICE:
        text = _slug(value, bad)
        if text not in spec.choices:
            raise bad("unknown value")
        return text
    if t is PType.AGENCY:
        text = _slug(value, bad)
        allowed = agencies + ((MULTI_AGENCY,) if spec.multi_agency else ())
        if text not in allowed:
            raise bad("unknown agency")
        return text
    if t is PType.NUMBERS:
        return _to_numbers(value, bad)
    if t is PType.CASE:
        if not isinstance(value, str) or not _CASE_REF.fullmatch(value.strip()):
            raise bad("not a case reference")
        return value.strip()
    allowed = {PType.CHOICES: spec.choices, PType.THEMES: themes}.get(t, agencies)
    items = _to_list(value, bad)
    unknown_items = [i for i in items if i not in allowed]
    if unknown_items:
        raise bad(f"unknown value {unknown_items[0]!r}")
    return list(dict.fromkeys(items))


def _to_numbers(value: Any, bad: Any) -> list[int]:
    items = value if isinstance(value, list | tuple) else _to_list(value, bad)
    numbers: list[int] = []
    for item in items:
        text = str(item).strip() if not isinstance(item, bool) else ""
        if not re.fullmatch(r"\d{1,9}", text) or int(text) == 0:
            raise bad(f"not a whole number from 1: {_shown(item)}")
        numbers.append(int(text))
    return sorted(set(numbers))


def clean_text(value: str, name: str, max_length: int, *, multiline: bool = False) -> str:
    """Strip, bound the length and refuse control characters (line breaks only if multiline)."""
    text = value.strip()
    if len(text) > max_length:
        raise InvalidInput(f"{name}: too long ({len(text)} characters; at most {max_length})")
    allowed = {"\n", "\t"} if multiline else {"\t"}
    for ch in text:
        if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise InvalidInput(f"{name}: contains a control character (U+{ord(ch):04X})")
    return text


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _slug(value: Any, bad: Any) -> str:
    if not isinstance(value, str):
        raise bad("not text")
    return value.strip()


def _to_bool(value: Any, bad: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise bad("not true or false")


def _to_date(spec: Param, value: Any, today: date, bad: Any) -> date:
    if isinstance(value, date):
        day = value
    elif isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise bad("not a date") from None
    else:
        raise bad("not a date")
    if not 1900 <= day.year <= 2200:
        raise bad("year out of range")
    if spec.not_future and day > today:
        raise bad("in the future")
    return day


def _to_list(value: Any, bad: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise bad("not a list")
