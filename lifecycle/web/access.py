"""Who sees what in the portal (SECURITY.md, "Who may do what").

- An agency's safeguarding lead sees only the cases their agency was asked about (or holds
  an action on), and of the agencies' returns only their own agency's. Any other case is
  "not found" to them (404), so the portal does not even confirm that it exists.
- Everyone else with a role sees every case: they decide on cases, review them, or
  scrutinise the work.
- The referral's free text only for the roles that may read it
  (lifecycle.views.documents.READ_SUMMARY). Returns' summaries and action evidence are
  never shown in the portal.
"""

from __future__ import annotations

from typing import Any

from lifecycle.views.documents import READ_SUMMARY
from lifecycle.web.identity import Visitor
from states.enums import Role
from storage import facts
from storage.cases import CaseRecord
from storage.db import Tx


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


def reads_free_text(who: Visitor) -> bool:
    return bool(who.roles & READ_SUMMARY)


def trimmed(who: Visitor, doc: dict[str, Any]) -> dict[str, Any]:
    """The case document as this person may see it."""
    if not reads_free_text(who):
        doc["referral"].pop("summary", None)
    if limited(who):
        doc["agencies"] = [a for a in doc["agencies"] if a["agency"] == who.user.agency]
    return doc
