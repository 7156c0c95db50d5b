"""A trigger's form, generated from its parameters in the case's process definition.

Each field is named after its parameter (plus `reason` and a hidden `if_version`), so a
form posts exactly what `scr advance REF TRIGGER KEY=VALUE` would: lists are joined with
commas, a yes/no is `true` or `false`, a date is `YYYY-MM-DD`. The values then go through
the same parser and engine as the command line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scr.states.enums import MULTI_AGENCY
from scr.states.params import Param, PType
from scr.states.process import TriggerSpec
from scr.states.words import param_label, value_words

ENUM_WORDS = {"true": "Yes", "false": "No"}
# The form's own fields beside the parameters': the reason (the key Refused.fields gives a
# refusal about it under) and the version the form was shown at.
REASON = "reason"
VERSION = "if_version"
# The parameters shown as checkboxes: a list of values, posted as one field each.
LISTS = (PType.CHOICES, PType.AGENCIES, PType.THEMES)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # text | textarea | date | number | radios | checkboxes | select
    hint: str = ""
    required: bool = True
    options: tuple[tuple[str, str], ...] = ()  # (value, words)
    value: Any = None  # what was typed, to show again (never private text)
    error: str | None = None
    private: bool = False


@dataclass
class Form:
    trigger: str
    fields: list[Field] = field(default_factory=list)
    reason_required: bool = False
    reason: str = ""
    reason_error: str | None = None


def words(value: str) -> str:
    """A value as words for people, from the one table e-mail and the command line use
    (states.words): `childrens_social_care` -> "Children's social care"."""
    return value_words(value)


def build(spec: TriggerSpec, agencies: Sequence[str], themes: Sequence[str], *,
          values: Mapping[str, Any] | None = None,
          errors: Mapping[str, str] | None = None, reason: str = "") -> Form:
    """The form of `spec`, its choices of agency and of theme the board's own."""
    values, errors = values or {}, errors or {}
    form = Form(spec.name, reason_required=spec.needs_reason,
                reason=reason)
    for p in spec.params:
        shown = None if p.private else values.get(p.name)
        form.fields.append(_field(p, agencies, themes, shown, errors.get(p.name)))
    form.reason_error = errors.get(REASON)
    return form


def _field(p: Param, agencies: Sequence[str], themes: Sequence[str], value: Any,
           error: str | None) -> Field:
    label = param_label(p.name)
    hint = _hint(p)
    common = {"name": p.name, "label": label, "hint": hint, "required": p.required,
              "value": value, "error": error, "private": p.private}
    if p.type is PType.LONG_TEXT:
        return Field(kind="textarea", **common)
    if p.type is PType.DATE:
        return Field(kind="date", **{**common, "hint": (hint + ". " if hint else "")
                                     + "For example, 23 11 2026"})
    if p.type is PType.INT:
        return Field(kind="number", **common)
    if p.type is PType.BOOL:
        return Field(kind="radios", options=(("true", "Yes"), ("false", "No")), **common)
    if p.type is PType.CHOICE:
        return Field(kind="radios", options=tuple((c, words(c)) for c in p.choices), **common)
    if p.type is PType.CHOICES:
        return Field(kind="checkboxes", options=tuple((c, words(c)) for c in p.choices),
                     **common)
    if p.type is PType.AGENCY:
        choices = (*agencies, MULTI_AGENCY) if p.multi_agency else tuple(agencies)
        return Field(kind="select", options=tuple((a, words(a)) for a in choices), **common)
    if p.type is PType.AGENCIES:
        return Field(kind="checkboxes", options=tuple((a, words(a)) for a in agencies),
                     **common)
    if p.type is PType.THEMES:
        return Field(kind="checkboxes", options=tuple((t, words(t)) for t in themes),
                     **common)
    if p.type is PType.NUMBERS:
        return Field(kind="text", **{**common, "hint": (hint + ". " if hint else "")
                                     + "Action numbers separated by commas, for example 1, 3"})
    return Field(kind="text", **common)


def _hint(p: Param) -> str:
    """The parameter's help, and for free text the warning that it is kept for good."""
    if not p.free_text:
        return p.help[:1].upper() + p.help[1:]
    said = [t[:1].upper() + t[1:] for t in (p.help, p.caution()) if t]
    return ". ".join(said) + "."


def submitted(spec: TriggerSpec, form: Mapping[str, Any]) -> dict[str, str]:
    """The posted values as `scr advance` takes them: only the trigger's parameters, empty
    ones left out (a missing required one is then reported by the parser), several values
    of one field joined with commas. `form` is a multi-dict (Starlette's FormData)."""
    raw: dict[str, str] = {}
    for p in spec.params:
        given = [str(v).strip() for v in form.getlist(p.name)]  # type: ignore[attr-defined]
        given = [v for v in given if v]
        if given:
            raw[p.name] = ",".join(given)
        elif p.type is PType.DATE:
            day = _date_parts(form, p.name)
            if day:
                raw[p.name] = day
    return raw


def _date_parts(form: Mapping[str, Any], name: str) -> str | None:
    """A GOV.UK date input's day, month and year (NAME-day, NAME-month, NAME-year) as the
    parser takes a day, YYYY-MM-DD; a part left out stays out, so that the parser says the
    date is not one. None when none was given."""
    year, month, day = (str(form.get(f"{name}-{part}") or "").strip()
                        for part in ("year", "month", "day"))
    if not (year or month or day):
        return None
    return "-".join((year, month.zfill(2) if month.isdigit() else month,
                     day.zfill(2) if day.isdigit() else day))


def shown_values(spec: TriggerSpec, raw: Mapping[str, str]) -> dict[str, Any]:
    """What to show again in the fields after a refusal: lists split again."""
    out: dict[str, Any] = {}
    for p in spec.params:
        if p.name in raw:
            out[p.name] = raw[p.name].split(",") if p.type in LISTS else raw[p.name]
    return out


def posted_reason(form: Mapping[str, Any]) -> str | None:
    """The reason typed, or None when none was."""
    return str(form.get(REASON) or "").strip() or None


def posted_version(form: Mapping[str, Any]) -> int | None:
    """The case's version the form was shown at (a stale one is a conflict), if it says."""
    try:
        return int(str(form.get(VERSION) or ""))
    except ValueError:
        return None


def field_errors(checks: list[dict[str, Any]]) -> dict[str, str]:
    """Each parameter's problem (views.why.judge_params's checks), by field."""
    return {c["param"]: _said(c["param"], c["reason"]) for c in checks if c.get("reason")}


def said(problems: Mapping[str, str]) -> dict[str, str]:
    """Each field's problem (InvalidInput.fields) as its field shows it."""
    return {name: _said(name, message) for name, message in problems.items()}


def _said(name: str, message: str) -> str:
    """A parameter's problem as its field shows it: the field's own label says which, so
    the message does not name the parameter again ("themes: unknown value ..." is shown
    by Themes as "Unknown value ...")."""
    said = message.removeprefix(f"{name}: ")
    return said[:1].upper() + said[1:]


def summary(errors: Mapping[str, str]) -> list[dict[str, str]]:
    """The error summary's entries, each linking to its field."""
    return [{"text": f"{words(k)}: {v}", "href": f"#{k}"} for k, v in errors.items()]


def at_the_top(messages: list[str]) -> list[dict[str, str]]:
    """The error summary's entries for problems of no one field: they link to the page."""
    return [{"text": m, "href": "#main-content"} for m in messages]
