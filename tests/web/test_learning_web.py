"""The learning register in the portal over real HTTP: the register page, the form that
registers a review through the engine, the sub-group chair's consideration from the inbox,
and a record's page with its review, audits and training."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from scr.states.enums import State
from scr.storage import cases, learning
from scr.storage.db import reading, transaction
from tests import records
from tests.board import BM, HEALTH, SUBCHAIR
from tests.web.conftest import LATER, Site, form_token, sign_in

BM_MAIL, CHAIR_MAIL, SUBCHAIR_MAIL = "bm@board.test", "chair@board.test", "subchair@board.test"
HEALTH_MAIL = "health@board.test"
LINK = "https://www.gov.uk/government/publications/safeguarding-children-under-1-year-old"
NATIONAL = {
    "title": "The Myth of Invisible Men", "source": "national_review",
    "publisher": "Child Safeguarding Practice Review Panel", "published_on": "2021-09-15",
    "themes": "non_accidental_injury_in_infants,working_with_fathers", "link": LINK,
}
POSTED = {**NATIONAL, "themes": ["neglect", "working_with_fathers"]}
ADOPTED = "Midwives and health visitors ask about every man in the household"


def register(site: Site, by: str = BM, **changes: Any) -> str:
    """A review registered through the engine, as `by`, at the portal's clock."""
    actor = site.board.actor(by)
    with transaction(site.board.db) as tx:
        return site.board.engine.refer(tx, actor=actor, params={**NATIONAL, **changes},
                                       now=site.now, process_name="learning").ref


def item(site: Site, ref: str) -> Any:
    with reading(site.board.db) as tx:
        return learning.item(tx, cases.load(tx, ref).id)


def learning_records(site: Site) -> list[str]:
    with reading(site.board.db) as tx:
        return [c.ref for c in cases.every(tx) if c.definition == "learning"]


def considered(site: Site, ref: str) -> None:
    site.board.fire(ref, "consider_relevant", at=site.now, by=SUBCHAIR,
                    date=site.now.date().isoformat(), adopted=ADOPTED, reason="Seen here too")


# ------------------------------------------------------------------- the register
def test_the_register_lists_its_records_and_the_cases_list_does_not(site: Site):
    ref = register(site)
    case = site.board.refer(at=site.now)
    c = sign_in(site, BM_MAIL)
    page = c.get("/learning")
    assert page.status_code == 200
    assert f'<a class="govuk-link" href="/cases/{ref}">{ref}</a>' in page.text
    for shown in ("The Myth of Invisible Men", "National review by the Panel", "2021-09-15",
                  "Registered: awaiting the sub-group&#39;s consideration", "Not yet"):
        assert shown in page.text, shown
    assert case not in page.text
    assert 'href="/learning/new"' in page.text  # the business manager may register one
    # The portal's navigation leads to it, marked as the page shown.
    assert 'href="/learning"' in c.get("/").text
    assert 'href="/learning" aria-current="true"' in page.text
    listed = c.get("/cases").text
    assert case in listed and ref not in listed
    assert 'value="registered"' not in listed  # nor the register's stages in its filter
    # Once considered, the day it was considered.
    considered(site, ref)
    page = c.get("/learning").text
    assert "Relevant: recommendations adopted" in page and site.now.date().isoformat() in page
    # An agency lead sees a record only once their agency holds one of its actions.
    lead = sign_in(site, HEALTH_MAIL)
    assert ref not in lead.get("/learning").text
    assert lead.get(f"/cases/{ref}").status_code == 404
    site.board.fire(ref, "add_action", at=site.now, by=SUBCHAIR, agency="health",
                    description="Ask about men in the household", owner=HEALTH,
                    due=(site.now + timedelta(days=60)).date().isoformat())
    page = lead.get("/learning").text
    assert ref in page and 'href="/learning/new"' not in page


# ---------------------------------------------------------------- the register form
def test_the_register_form_registers_a_review_as_the_person_signed_in(site: Site):
    c = sign_in(site, BM_MAIL)
    form = c.get("/learning/new")
    assert form.status_code == 200
    # The board's themes as checkboxes, in words; the sources as radios.
    assert 'type="checkbox"' in form.text and 'name="themes"' in form.text
    assert 'value="non_accidental_injury_in_infants"' in form.text
    assert "Non-accidental injury to infants" in form.text
    assert 'type="radio"' in form.text and "Another partnership&#39;s review" in form.text
    assert "This cannot be done now" not in form.text
    done = c.post("/learning/new", data={**POSTED, "csrf_token": form_token(form.text)})
    assert done.status_code == 303
    [ref] = learning_records(site)
    assert done.headers["location"] == f"/cases/{ref}?done=register_review"
    stored = item(site, ref)
    assert (stored.title, stored.source, stored.themes, stored.link) == (
        "The Myth of Invisible Men", "national_review", ["neglect", "working_with_fathers"],
        LINK)
    [first] = records.case_history(site.board.db, ref)
    assert (first.trigger, first.actor) == ("register_review", BM)
    page = c.get(done.headers["location"]).text
    assert "Review from elsewhere registered: done" in page
    assert "The Myth of Invisible Men" in page
    # The sub-group chair may register one too.
    sub = sign_in(site, SUBCHAIR_MAIL)
    token = form_token(sub.get("/learning/new").text)
    again = sub.post("/learning/new", data={**POSTED, "title": "Another", "csrf_token": token})
    assert again.status_code == 303 and len(learning_records(site)) == 2


def test_bad_input_is_shown_by_its_field_and_nothing_is_written(site: Site):
    c = sign_in(site, BM_MAIL)
    token = form_token(c.get("/learning/new").text)
    before = records.counts(site.board.db)
    bad = c.post("/learning/new", data={**POSTED, "title": "  ",
                                        "themes": ["neglect", "astrology"],
                                        "csrf_token": token})
    assert bad.status_code == 400
    assert "There is a problem" in bad.text
    assert 'href="#title"' in bad.text and 'href="#themes"' in bad.text
    # The field's label names the parameter: the message does not say it again.
    assert "Unknown value &#39;astrology&#39;" in bad.text
    assert "themes: unknown value" not in bad.text
    assert 'class="govuk-error-message"' in bad.text  # by the fields too
    # What was typed is shown again: the publisher, and the theme that is the board's.
    assert 'value="Child Safeguarding Practice Review Panel"' in bad.text
    assert 'value="neglect" checked' in bad.text
    assert learning_records(site) == [] and records.counts(site.board.db) == before
    # A post without the form's token is refused before anything is read.
    forged = c.post("/learning/new", data={**POSTED})
    assert forged.status_code == 403 and learning_records(site) == []


def test_only_the_business_manager_and_the_sub_group_chair_may_register(site: Site):
    c = sign_in(site, CHAIR_MAIL)
    assert 'href="/learning/new"' not in c.get("/learning").text
    form = c.get("/learning/new")
    assert "This cannot be done now" in form.text
    assert "may not fire register_review" in form.text
    before = records.counts(site.board.db)
    refused = c.post("/learning/new", data={**POSTED, "csrf_token": form_token(form.text)})
    assert refused.status_code == 422
    assert "There is a problem" in refused.text and "may not fire register_review" in refused.text
    assert learning_records(site) == [] and records.counts(site.board.db) == before


# ---------------------------------------------------------- considering a record
def test_the_sub_group_chair_considers_a_record_from_their_inbox(site: Site):
    ref = register(site)
    site.at(site.now + LATER)
    c = sign_in(site, SUBCHAIR_MAIL)
    inbox = c.get("/").text
    assert f"/cases/{ref}/consider_relevant" in inbox
    assert f"/cases/{ref}/consider_not_relevant" in inbox
    form = c.get(f"/cases/{ref}/consider_relevant")
    assert form.status_code == 200 and 'name="adopted"' in form.text
    fields = {"date": site.now.date().isoformat(), "adopted": ADOPTED,
              "if_version": str(site.board.case(ref).version),
              "csrf_token": form_token(form.text)}
    unreasoned = c.post(f"/cases/{ref}/consider_relevant", data=fields)
    assert unreasoned.status_code == 422 and site.board.state(ref) == "registered"
    done = c.post(f"/cases/{ref}/consider_relevant",
                  data={**fields, "reason": "Three of our infant injury cases had unknown men"})
    assert done.status_code == 303
    assert site.board.state(ref) == "adopted"
    stored = item(site, ref)
    assert (stored.relevant, stored.considered_by, stored.adopted) == (True, SUBCHAIR, ADOPTED)
    page = c.get(f"/cases/{ref}").text
    assert f"Relevant here: considered on {site.now.date().isoformat()} by {SUBCHAIR}" in page
    assert ADOPTED in page
    assert f"/cases/{ref}/consider_relevant" not in c.get("/").text


# ------------------------------------------------------------------ a record's page
def test_a_records_page_shows_the_review_its_audits_and_its_training(site: Site):
    ref = register(site)
    c = sign_in(site, BM_MAIL)
    page = c.get(f"/cases/{ref}")
    assert page.status_code == 200
    text = page.text
    assert "The review" in text and "Criteria" not in text and "The referral" not in text
    for shown in ("Child Safeguarding Practice Review Panel", "National review by the Panel",
                  "2021-09-15", "Non-accidental injury to infants, Working with fathers",
                  "Not yet considered", "Registered"):
        assert shown in text, shown
    assert f'<a class="govuk-link" href="{LINK}">{LINK}</a>' in text
    assert "Audits of the learning" not in text and "Training in response" not in text
    assert c.get(f"/cases/{ref}/timeline.svg").status_code == 200
    considered(site, ref)
    site.board.fire(ref, "add_action", at=site.now, by=SUBCHAIR, agency="health",
                    description="Ask about men in the household", owner=HEALTH,
                    due=(site.now + timedelta(days=60)).date().isoformat())
    # The audit through its form: the action numbers are typed, with their hint.
    form = c.get(f"/cases/{ref}/record_audit")
    assert "Action numbers separated by commas" in form.text
    done = c.post(f"/cases/{ref}/record_audit", data={
        "date": site.now.date().isoformat(), "finding": "partly_embedded", "actions": "1",
        "note": "Asked in 30 of 40 records", "if_version": str(site.board.case(ref).version),
        "csrf_token": form_token(form.text)})
    assert done.status_code == 303, done.text
    site.board.fire(ref, "record_training", at=site.now, course="Seeing the men",
                    audience="Health visitors", starts_on="2026-12-01", ends_on="2026-12-02",
                    trained=25)
    text = c.get(f"/cases/{ref}").text
    assert "Audits of the learning" in text and "Partly embedded" in text
    assert "Asked in 30 of 40 records" in text
    assert "Training in response" in text and "Seeing the men" in text
    assert "Health visitors" in text and "The learning as a whole" in text
    assert ADOPTED in text
    # The health lead, who holds its action, sees the record, not the sub-group's words.
    lead = sign_in(site, HEALTH_MAIL).get(f"/cases/{ref}").text
    assert "Recorded; they are not shown to you." in lead
    assert ADOPTED not in lead and "Asked in 30 of 40 records" not in lead
    assert "Partly embedded" in lead


def test_a_link_that_is_not_a_web_address_stays_text(site: Site):
    ref = register(site, link="javascript:alert(1)")
    text = sign_in(site, BM_MAIL).get(f"/cases/{ref}").text
    assert "javascript:alert(1)" in text and 'href="javascript:' not in text


def test_a_cases_page_shows_the_audits_of_its_learning(site: Site):
    ref = site.board.refer(at=site.now)
    at = site.board.walk(ref, State.PUBLISHED, at=site.now)
    site.board.fire(ref, "record_audit", at=at, date=at.date().isoformat(),
                    finding="embedded")
    site.at(at + LATER)
    text = sign_in(site, BM_MAIL).get(f"/cases/{ref}").text
    assert "Audits of the learning" in text and "Embedded" in text
    assert "Criteria" in text and "The review" not in text


def test_the_register_page_shows_signed_off_actions_no_audit_has_tested(site: Site):
    """Child C's action, signed off, is listed until an audit tests it."""
    ref = site.board.refer(at=site.now)
    at = site.board.walk(ref, State.ACTIONS_SIGNED_OFF, at=site.now)
    site.at(at + LATER)
    client = sign_in(site, BM_MAIL)
    page = client.get("/learning").text
    assert "Signed-off actions not yet audited" in page
    assert f'href="/cases/{ref}"' in page
    site.board.fire(ref, "record_audit", at=at + timedelta(hours=1),
                    date=at.date().isoformat(), finding="embedded", actions="1")
    assert "Every signed-off action has been audited." in client.get("/learning").text


def test_the_register_page_filters_by_stage_theme_and_source(site: Site):
    national = register(site)
    other = register(site, title="Child Q: a partnership review", source="partnership_review",
                     themes="neglect")
    considered(site, national)
    client = sign_in(site, BM_MAIL)
    assert national in client.get("/learning?state=adopted").text
    assert other not in client.get("/learning?state=adopted").text
    by_theme = client.get("/learning?theme=neglect").text
    assert other in by_theme and f'href="/cases/{national}"' not in by_theme
    by_source = client.get("/learning?source=national_review").text
    assert f'href="/cases/{national}"' in by_source and other not in by_source
    unknown = client.get("/learning?theme=astrology")
    assert unknown.status_code == 200 and national in unknown.text and other in unknown.text

