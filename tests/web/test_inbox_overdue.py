"""The inbox keeps a deadline the daemon has chased as overdue: firing its recurring level
arms the next reminder, but the step it asks for is not done."""

from __future__ import annotations

from datetime import UTC, datetime

from scr.lifecycle.runtime.sweep import sweep
from tests.conftest import T0
from tests.lifecycle.test_regimes import CSPR_REFERRAL, board_for
from tests.web.conftest import Site, sign_in
from tests.web.test_portal import BM_MAIL


def test_a_chased_notification_is_still_overdue_in_the_inbox(site: Site):
    cspr = board_for(site.board.db, "cspr", "1")  # the portal's users, a cspr case
    ref = cspr.refer({**CSPR_REFERRAL, "aware_on": "2026-11-16"}, at=T0)  # due Mon 23 Nov
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    site.at(now)
    c = sign_in(site, BM_MAIL)

    def item() -> str:
        page = c.get("/").text
        start = page.index(ref)
        return page[start:page.find("</h2>", start)]

    assert "Overdue" in item()
    fired = sweep(site.board.db, cspr.engine, now)
    assert "notification.due" in [f.timer for f in fired.of("fired")]
    assert "Overdue" in item()
