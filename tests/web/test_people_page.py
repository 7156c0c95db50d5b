"""The People page over real HTTP: the business manager's list of the board's people, a
leaver deactivated with a reason (their session ended, what open cases ask of them listed),
and reactivated; anyone else is told there is no such page."""

from __future__ import annotations

from tests.board import HEALTH, REVIEWER
from tests.web.conftest import Site, form_token, sign_in

BM_MAIL, HEALTH_MAIL = "bm@board.test", "health@board.test"


def test_the_business_manager_deactivates_a_leaver_and_reactivates_them(site: Site):
    lead = sign_in(site, HEALTH_MAIL)  # the leaver, signed in
    assert lead.get("/").status_code == 200
    c = sign_in(site, BM_MAIL)
    page = c.get("/people")
    assert page.status_code == 200
    assert 'href="/people"' in c.get("/").text  # in the business manager's navigation
    for shown in (HEALTH, "health@board.test", "Agency safeguarding lead", REVIEWER,
                  "Active"):
        assert shown in page.text, shown
    token = form_token(page.text)
    missing = c.post("/people/deactivate", data={"name": HEALTH, "csrf_token": token})
    assert missing.status_code == 400 and "say why" in missing.text
    done = c.post("/people/deactivate", data={"name": HEALTH, "reason": "left the trust",
                                              "csrf_token": token})
    assert done.status_code == 200
    assert f"{HEALTH} is deactivated" in done.text and "1 portal session ended" in done.text
    assert "Deactivated" in done.text
    # Their session is over: the portal sends them to sign in again.
    assert lead.get("/").status_code in (302, 303, 401)
    again = c.post("/people/reactivate", data={"name": HEALTH, "csrf_token": token})
    assert again.status_code == 200 and f"{HEALTH} may act and sign in again" in again.text


def test_the_last_business_manager_cannot_be_deactivated_here_either(site: Site):
    from tests.board import BM

    c = sign_in(site, BM_MAIL)
    token = form_token(c.get("/people").text)
    refused = c.post("/people/deactivate", data={"name": BM, "reason": "leaving",
                                                 "csrf_token": token})
    assert refused.status_code == 422 and "only active business manager" in refused.text


def test_nobody_else_sees_the_people_page(site: Site):
    lead = sign_in(site, HEALTH_MAIL)
    assert lead.get("/people").status_code == 404
    assert 'href="/people"' not in lead.get("/").text
    forged = lead.post("/people/deactivate", data={"name": HEALTH, "reason": "x"})
    assert forged.status_code in (403, 404)
