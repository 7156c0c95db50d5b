"""A sample notice for the handlers' tests: one realistic set of safe fields."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from handlers.notices import Deadline, Notice

DUE_UTC = datetime(2026, 6, 5, 9, 15, tzinfo=UTC)


def make_notice(template: str = "request_information", **changes: object) -> Notice:
    notice = Notice(
        template=template,
        board_name="Anyshire Safeguarding Children Board",
        case_ref="CR-2026-0001",
        pseudonym="Child K",
        state="information_request",
        state_label="Information request",
        source="referral",
        event_label="Information requested from agencies",
        actor="Jane Smith",
        reason="Agreed at the triage call",
        details=(("Agencies", "health, police"),),
        next_deadline=Deadline("Agency returns due", DUE_UTC),
        recipient_name="Pat Lee",
        recipient_role="agency_lead",
    )
    return replace(notice, **changes)  # type: ignore[arg-type]
