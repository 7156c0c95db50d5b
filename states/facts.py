"""A definition's own facts: what a regime records about a case beyond what every review
records, declared once in the definition and kept in one document per case.

Each definition lists its facts (ProcessDefinition.facts): a name, a type, the words people
read it by, who may read it, and whether it is free text. The case's facts live in one JSON
document (the `facts` column of `cases`: JSON on SQLite, JSONB on PostgreSQL), in their
stored form (a day as its ISO text); the engine checks the document against the
definition on every write (`check`). A trigger records a fact by naming it
(TriggerSpec.records): the value of one of its parameters, or, for a fact kept by key, a
small record of who said what and when. Guards, timers and views read a fact through its
declaration (`Fact.of`), which gives it typed.

A new fact that guards and timers read is then one declaration in the definition and its
words: no migration, and `scr show`, `--json`, the portal and the seal show it unchanged
(docs/facts.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scr.states.case import Actor, CaseSnapshot

__all__ = ["Fact", "FactError", "FactType", "Record", "check", "recorded", "stored_value"]


class FactType(StrEnum):
    DAY = "day"  # a calendar day (stored as ISO text)
    TEXT = "text"
    CHOICE = "choice"  # one of the fact's choices
    FLAG = "flag"  # yes or no (stored as JSON true or false)
    # Views kept by key: {key: {<the parameter's name>: value, "at": ISO moment, "by": who}},
    # e.g. each safeguarding partner's view of the decision.
    VIEWS = "views"


class FactError(ValueError):
    """A facts document that does not match its definition (a defect, never input)."""


@dataclass(frozen=True)
class Fact:
    name: str
    type: FactType
    # How people read it named, in a case's printout and page: a few words ("rapid review
    # sent"), as short as the column they stand in allows.
    label: str
    choices: tuple[str, ...] = ()
    max_length: int = 200
    # Free text about the child: shown only to `readers`, never put in e-mail, logs or
    # history.
    free_text: bool = False
    # The roles that may read it; empty: whoever may see the case.
    readers: frozenset[str] = frozenset()

    def of(self, case: CaseSnapshot) -> Any:
        """The fact's value on `case`, typed (a day as a date, views with their moments as
        datetimes); None (a fact kept by key: {}; a flag: False) when it has not been
        recorded."""
        return self.typed(case.facts.get(self.name))

    def typed(self, stored: Any) -> Any:
        if self.type == FactType.VIEWS:
            return {key: {**view, "at": datetime.fromisoformat(view["at"])}
                    for key, view in (stored or {}).items()}
        if stored is None:
            return False if self.type == FactType.FLAG else None
        if self.type == FactType.DAY:
            return date.fromisoformat(stored)
        return stored

    def problem(self, stored: Any) -> str | None:
        """Why `stored` is not a value of this fact, or None."""
        if self.type == FactType.VIEWS:
            if not isinstance(stored, dict) or not all(
                    isinstance(k, str) and isinstance(v, dict) and isinstance(v.get("at"), str)
                    and isinstance(v.get("by"), str) for k, v in stored.items()):
                return "views by key, each with its moment (at) and who gave it (by)"
            return None
        if self.type == FactType.FLAG:
            return None if isinstance(stored, bool) else "yes or no (true or false)"
        if not isinstance(stored, str):
            return f"a {self.type.value} in its stored form (text)"
        if self.type == FactType.DAY:
            try:
                date.fromisoformat(stored)
            except ValueError:
                return "a day (YYYY-MM-DD)"
        if self.type == FactType.CHOICE and stored not in self.choices:
            return f"one of {', '.join(self.choices)}"
        if len(stored) > self.max_length:
            return f"at most {self.max_length} characters"
        return None

    def readable_by(self, roles: Iterable[str] | None) -> bool:
        """Whether someone with `roles` may read it (None: nobody in particular, so only a
        fact without readers)."""
        return not self.readers or bool(roles is not None and self.readers & set(roles))


@dataclass(frozen=True)
class Record:
    """What a trigger records in one of its definition's facts: the value of its parameter
    `param`; for a fact kept by key, the view {param: value, at, by} under the value of the
    parameter `key`."""

    fact: str
    param: str
    key: str | None = None


def stored_value(value: Any) -> Any:
    """A parameter's value in the document's stored form."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def recorded(document: Mapping[str, Any], records: Iterable[Record],
             params: Mapping[str, Any], *, at: datetime, actor: Actor) -> dict[str, Any]:
    """A new document: `document` with what `records` record from a trigger's `params`.
    A parameter left out (an optional one) records nothing."""
    new = dict(document)
    for rec in records:
        value = params.get(rec.param)
        if value is None:
            continue
        if rec.key is None:
            new[rec.fact] = stored_value(value)
        else:
            views = dict(new.get(rec.fact) or {})
            views[params[rec.key]] = {rec.param: stored_value(value), "at": at.isoformat(),
                                      "by": actor.name}
            new[rec.fact] = views
    return new


def check(declared: Iterable[Fact], document: Mapping[str, Any]) -> None:
    """FactError unless every fact in `document` is declared and holds a value of its type."""
    by_name = {f.name: f for f in declared}
    for name, value in document.items():
        fact = by_name.get(name)
        if fact is None:
            raise FactError(f"the facts document holds {name!r}, which its definition does not "
                            "declare")
        problem = fact.problem(value)
        if problem is not None:
            raise FactError(f"fact {name!r} must be {problem}, not {value!r}")


# ------------------------------------------------------ the shipped regimes' facts
# Declared here because guards and timers shared by several regimes read them; each
# definition lists those it records (ProcessDefinition.facts).
PANEL_NOTIFIED_ON = Fact("panel_notified_on", FactType.DAY, "panel told")
NOTIFIED_ON = Fact("notified_on", FactType.DAY, "notified")
PARTNER_VIEWS = Fact("partner_views", FactType.VIEWS, "partners")
RAPID_REVIEW_SENT_ON = Fact("rapid_review_sent_on", FactType.DAY, "rapid review sent")
PANEL_RESPONSES = ("local_review", "national_review", "no_review")
PANEL_RESPONSE = Fact("panel_response", FactType.CHOICE, "panel response",
                      choices=PANEL_RESPONSES)
PANEL_RESPONSE_ON = Fact("panel_response_on", FactType.DAY, "panel responded")

# CSPR version 2 (states/cspr/v2.py): what the referral says beyond the referrals table, the
# notifications beside the Panel's, the rapid review's own record and the Panel's answer.
CARE_LEAVER = Fact("care_leaver", FactType.FLAG, "care leaver")
OUTSIDE_ENGLAND = Fact("outside_england", FactType.FLAG, "outside England")
LIVES_IN_AREA = Fact("lives_in_area", FactType.TEXT, "lives in", max_length=100)
OTHER_AREA_TOLD_ON = Fact("other_area_told_on", FactType.DAY, "other area told")
WITHDRAWAL_TOLD_ON = Fact("withdrawal_told_on", FactType.DAY, "panel told of withdrawal")
NATIONAL_REVIEW_SUPPORT_ON = Fact("national_review_support_on", FactType.DAY,
                                  "national review supported")
# The rapid review's content, the safeguarding partners' private record (Working Together
# 2023, chapter 5; the Panel's guidance): free text about the child and family, read only
# by the partners, the business manager and the independent scrutineer.
RAPID_REVIEW_READERS = frozenset({"safeguarding_partner", "business_manager", "scrutineer"})
RAPID_REVIEW_RECORD = tuple(
    Fact(name, FactType.TEXT, label, max_length=20000, free_text=True,
         readers=RAPID_REVIEW_READERS)
    for name, label in (
        ("rapid_review_agencies", "agencies' involvement"),
        ("rapid_review_practice", "key practice episodes"),
        ("rapid_review_safety", "immediate actions for safety"),
        ("rapid_review_learning", "learning identified"),
        ("rapid_review_context", "the child's and family's lives"),
    ))
# Publication (CSPR version 2): what the partners publish, how long it stays public, and its
# deposit with the NSPCC's national case review repository.
PUBLISHES = Fact("publishes", FactType.CHOICE, "publishes",
                 choices=("report", "improvements"))
PUBLIC_UNTIL = Fact("public_until", FactType.DAY, "public until")
REPOSITORY_DEPOSITED_ON = Fact("repository_deposited_on", FactType.DAY,
                               "deposited with the NSPCC")
# Several children of one incident (a sibling group): each has their own case, pseudonym and
# clocks, linked by the reference of the incident's first case.
INCIDENT = Fact("incident", FactType.TEXT, "same incident as", max_length=30)
# The safeguarding partners agree which incidents are notified (CSPR version 2): whether
# they had, when the notification was recorded.
NOTIFICATION_AGREED = Fact("notification_agreed", FactType.FLAG, "partners agreed to notify")
