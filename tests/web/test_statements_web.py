"""How many SQL statements a portal form costs, with the redirect that follows it, counted
through SQLAlchemy's cursor events (tests/statements.py). The target is 25 (docs/
architecture.md); the ceiling is today's cost, under it, so that it can only come down."""

from __future__ import annotations

from tests.statements import counted
from tests.web.conftest import Site, form_token, sign_in
from tests.web.test_portal import BM_MAIL

# Today's cost: the form's POST reads the case row to find the trigger it names, the engine
# reads the case and judges every field at once (65 when the portal judged the fields
# first on a snapshot of its own), and the page after the redirect reads it once more (once
# for its document and what the person may do next: 57 when each read it; 45 once the seal
# and the snapshot read meetings with their attendance, and the seal the referral with the
# proceedings; 35 once the page judged the case from the facts it read for the document,
# storage.facts.whole, in five statements where the snapshot and the document took
# sixteen; 24 once the snapshot, the seal and the page's read each asked first which
# tables the case has rows in, and read only those; 23 once the trigger read the case's
# row with its snapshot's head). The target, 25, is met.
FORM_CEILING = 23


def test_a_form_and_its_redirect_cost_no_more_statements_than_they_did(site: Site):
    ref = site.board.refer(at=site.now)
    c = sign_in(site, BM_MAIL)
    site.portal.app.engine.check_snapshots = False  # the tests' own re-reading, not the portal's
    form = c.get(f"/cases/{ref}/request_information")
    data = {"agencies": ["health", "police"], "urgent": "false",
            "if_version": str(site.board.case(ref).version), "csrf_token": form_token(form.text)}
    with counted() as seen:
        done = c.post(f"/cases/{ref}/request_information", data=data)
        page = c.get(done.headers["location"])
    assert done.status_code == 303 and page.status_code == 200
    assert 0 < len(seen) <= FORM_CEILING, "\n".join(seen)


def test_the_inbox_reads_the_same_number_of_statements_for_two_cases_as_for_six(site: Site):
    """Each case's snapshot and pending timers are read for all the inbox's cases at once
    (storage.cases.snapshots, storage.timers.pending_of): more cases, no more statements
    than the reading of the case rows themselves."""
    c = sign_in(site, BM_MAIL)

    def inbox_cost() -> int:
        with counted() as seen:
            page = c.get("/")
        assert page.status_code == 200
        return len(seen)

    refs = [site.board.refer(at=site.now) for _ in range(2)]
    two = inbox_cost()
    refs += [site.board.refer(at=site.now) for _ in range(4)]
    six = inbox_cost()
    page = c.get("/").text
    assert all(ref in page for ref in refs)
    # most_urgent reads each case's row by its id as it walks the deadlines: one a case.
    assert six - two == 4
