"""Who sees what in the portal (SECURITY.md, "Who may do what").

- An agency's safeguarding lead sees only the cases their agency was asked about (or holds
  an action on), and of the agencies' returns only their own agency's. Any other case is
  "not found" to them (404), so the portal does not even confirm that it exists.
- Everyone else with a role sees every case: they decide on cases, review them, or
  scrutinise the work.
- The free text about the child as the case's document gives it to the person
  (lifecycle.views.documents): the referral's summary and the summaries it replaced only
  for the roles that may read it (READ_SUMMARY); an agency's return and the evidence of
  its actions to those roles and to that agency's lead. Others see that a return or
  evidence was given, without its text.
"""

from __future__ import annotations

from typing import Any

from scr.lifecycle.web.identity import Visitor
from scr.states.enums import Role
from scr.storage import facts
from scr.storage.cases import CaseRecord
from scr.storage.db import Tx


def limited(who: Visitor) -> bool:
    """Whether the person sees only their own agency's cases: an agency lead with no role
    that sees every case."""
    others = who.roles - {Role.AGENCY_LEAD}
    return Role.AGENCY_LEAD in who.roles and not others


def may_see(tx: Tx, who: Visitor, case: CaseRecord) -> bool:
    if not limited(who):
        return bool(who.roles)
    agency = who.user.agency
    asked = {a.agency for a in facts.asks(tx, case.id)}
    acting = {a.agency for a in facts.actions(tx, case.id)}
    return agency is not None and agency in asked | acting


def visible(tx: Tx, who: Visitor, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a list of cases (each with its `ref`) this person may see: none for a
    person with no role, their agency's for an agency lead, every one for the rest."""
    from scr.storage import cases

    if not who.roles:
        return []
    if not limited(who):
        return rows
    return [r for r in rows if may_see(tx, who, cases.load(tx, r["ref"]))]


def trimmed(who: Visitor, doc: dict[str, Any]) -> dict[str, Any]:
    """The case document (made for this person as its reader) as they may see it: an
    agency lead sees only their own agency's requests."""
    if limited(who):
        doc["agencies"] = [a for a in doc["agencies"] if a["agency"] == who.user.agency]
    return doc
