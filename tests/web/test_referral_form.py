"""The referral form in the portal over real HTTP: the creating trigger's fields, built from
the definition the board's new cases start under (SCR version 1 on the test site), recorded
through the application layer as the person signed in, with every field's problem shown by
its field and nothing written on bad input."""

from __future__ import annotations

from scr.storage import cases, facts
from scr.storage.db import reading
from tests import records
from tests.board import BM
from tests.web.conftest import Site, form_token, sign_in

BM_MAIL, HEALTH_MAIL = "bm@board.test", "health@board.test"
# The incident's day as the GOV.UK date input posts it: day, month and year apart.
POSTED = {"pseudonym": "Child R", "incident_date-day": "2", "incident_date-month": "11",
          "incident_date-year": "2026", "harm": "death", "abuse": "suspected",
          "route": "child_death_review", "agency_concern": "true",
          "summary": "Seen at the emergency department twice."}


def referred(site: Site) -> list[str]:
    with reading(site.board.db) as tx:
        return [c.ref for c in cases.every(tx)]


def test_the_business_manager_refers_a_case_from_the_form(site: Site):
    c = sign_in(site, BM_MAIL)
    listed = c.get("/cases").text
    assert 'href="/cases/new"' in listed  # the way to it, for who may refer
    form = c.get("/cases/new")
    assert form.status_code == 200
    for shown in ('name="pseudonym"', 'name="incident_date-day"',
                  'name="incident_date-month"', 'name="incident_date-year"',
                  "For example, 23 11 2026", 'type="radio"', 'name="summary"',
                  "never e-mailed", "Refer the case"):
        assert shown in form.text, shown
    assert "This cannot be done now" not in form.text
    done = c.post("/cases/new", data={**POSTED, "csrf_token": form_token(form.text)})
    assert done.status_code == 303
    [ref] = referred(site)
    assert done.headers["location"] == f"/cases/{ref}?done=refer"
    [first] = records.case_history(site.board.db, ref)
    assert (first.trigger, first.actor) == ("refer", BM)
    page = c.get(done.headers["location"]).text
    assert "Child R" in page and ": done" in page
    with reading(site.board.db) as tx:  # the day put together from its parts
        stored = facts.whole(tx, cases.load(tx, ref).id).referral
    assert stored.incident_date.isoformat() == "2026-11-02"


def test_bad_input_is_shown_by_its_field_and_nothing_is_written(site: Site):
    c = sign_in(site, BM_MAIL)
    token = form_token(c.get("/cases/new").text)
    before = records.counts(site.board.db)
    bad = c.post("/cases/new", data={**POSTED, "incident_date-month": "13",
                                     "harm": "bruise", "csrf_token": token})
    assert bad.status_code == 400
    assert "There is a problem" in bad.text
    assert 'href="#incident_date"' in bad.text and 'href="#harm"' in bad.text
    assert 'value="Child R"' in bad.text  # what was typed is shown again, by part
    assert 'name="incident_date-month" type="text" value="13"' in bad.text
    assert referred(site) == [] and records.counts(site.board.db) == before
    forged = c.post("/cases/new", data=POSTED)
    assert forged.status_code == 403 and referred(site) == []


def test_who_may_not_refer_is_told_so_and_nothing_is_written(site: Site):
    lead = sign_in(site, HEALTH_MAIL)
    assert 'href="/cases/new"' not in lead.get("/cases").text
    form = lead.get("/cases/new")
    assert form.status_code == 200 and "This cannot be done now" in form.text
    refused = lead.post("/cases/new", data={**POSTED, "csrf_token": form_token(form.text)})
    assert refused.status_code == 422 and referred(site) == []


def test_the_amend_form_shows_the_referral_as_it_stands_and_changes_only_what_changed(
        site: Site):
    ref = site.board.refer(at=site.now)  # tests.board.SCR_REFERRAL
    c = sign_in(site, BM_MAIL)
    form = c.get(f"/cases/{ref}/amend_referral").text
    for part, value in (("day", "02"), ("month", "11"), ("year", "2026")):  # as it stands
        assert f'name="incident_date-{part}" type="text" value="{value}"' in form, part
    assert 'value="death" checked' in form and 'value="suspected" checked' in form
    # The summary is private text: never shown again in a form; left empty, it stands.
    assert "free text" not in form
    posted = {"incident_date": "2026-11-02", "harm": "serious_harm", "abuse": "suspected",
              "route": "child_death_review", "reason": "harm misrecorded",
              "csrf_token": form_token(form)}
    done = c.post(f"/cases/{ref}/amend_referral", data=posted)
    assert done.status_code == 303
    amended = records.case_history(site.board.db, ref)[-1]
    assert amended.trigger == "amend_referral"
    # Only what changed: as `scr advance REF amend_referral harm=serious_harm` records it.
    assert {k: v for k, v in amended.params.items() if v is not None} == {
        "harm": "serious_harm"}
    with reading(site.board.db) as tx:
        assert not facts.whole(tx, cases.load(tx, ref).id).has_earlier_summaries
