"""The portal over real HTTP: signing in by e-mail link, sessions, who sees what, forms
that fire triggers through the engine, and the security rules, each tested so that it
fails when the rule is broken."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from scr.states.enums import State
from scr.storage.models import Case, SignInLink, UserAudit, WebSession
from scr.storage.outbox import CLEARED
from tests import records
from tests.board import BM, CHAIR, HEALTH, POLICE, SCR_REFERRAL
from tests.web.conftest import Site, form_token, sign_in

BM_MAIL, CHAIR_MAIL, HEALTH_MAIL = "bm@board.test", "chair@board.test", "health@board.test"


def audit_actions(site: Site) -> list[tuple[str, str]]:
    with records.orm(site.board.db) as s:
        return [(a.action, a.user_name) for a in s.exec(select(UserAudit)).scalars()
                if a.action.startswith(("sign", "session"))]


# ------------------------------------------------------------------------ signing in
def test_a_link_signs_in_once_after_one_click(site: Site):
    c = site.client()
    assert c.get("/").headers["location"] == "/sign-in"  # not signed in
    page = c.get("/sign-in")
    assert page.status_code == 200 and 'name="email"' in page.text
    known = c.post("/sign-in", data={"email": BM_MAIL, "csrf_token": form_token(page.text)})
    unknown = c.post("/sign-in", data={"email": "nobody@else.test",
                                       "csrf_token": form_token(page.text)})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text  # the same answer whether or not the address is known
    link = site.sign_in_link(BM_MAIL)
    path = re.sub(r"^http://[^/]+", "", link)
    # A scanner fetching the link signs nobody in: the GET only asks for the click.
    scanner = site.client()
    shown = scanner.get(path)
    assert shown.status_code == 200 and f"Sign in as {BM}" in shown.text
    assert "scr_session" not in scanner.cookies
    assert scanner.get("/").status_code == 303
    done = c.post(path, data={"csrf_token": form_token(c.get(path).text)})
    assert done.status_code == 303
    cookie = done.headers["set-cookie"]
    assert "scr_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    inbox = c.get("/")
    assert inbox.status_code == 200 and "My inbox" in inbox.text and BM in inbox.text
    # Replayed: the same link again fails, and the failure is on record.
    again = site.client()
    replay = again.post(path, data={"csrf_token": form_token(again.get("/sign-in").text)})
    assert replay.status_code == 410 and "scr_session" not in again.cookies
    assert ("sign_in", BM) in audit_actions(site)
    assert ("sign_in_failed", BM) in audit_actions(site)


def test_only_the_links_hash_is_kept_and_the_message_is_cleared_once_sent(site: Site):
    c = site.client()
    c.post("/sign-in", data={"email": BM_MAIL, "csrf_token": form_token(c.get("/sign-in").text)})
    token = site.sign_in_link(BM_MAIL).rsplit("/", 1)[1]
    with records.orm(site.board.db) as s:
        stored = [link.token_hash for link in s.exec(select(SignInLink)).scalars()]
    assert len(stored) == 1 and token not in stored[0]
    sent = [m for m in records.mail(site.board.db) if m.template == "sign_in"]
    assert [m.status for m in sent] == ["sent"] and sent[0].body_text == CLEARED
    assert token not in sent[0].body_html


def test_an_expired_link_does_not_sign_in(site: Site):
    c = site.client()
    c.post("/sign-in", data={"email": BM_MAIL, "csrf_token": form_token(c.get("/sign-in").text)})
    path = re.sub(r"^http://[^/]+", "", site.sign_in_link(BM_MAIL))
    site.at(site.now + timedelta(minutes=15))
    page = c.get(path)
    assert page.status_code == 410 and "expired" in page.text
    failed = c.post(path, data={"csrf_token": form_token(c.get("/sign-in").text)})
    assert failed.status_code == 410 and "scr_session" not in c.cookies


def test_sign_in_requests_are_rate_limited_per_address(site: Site):
    c = site.client()
    token = form_token(c.get("/sign-in").text)
    codes = [c.post("/sign-in", data={"email": BM_MAIL, "csrf_token": token}).status_code
             for _ in range(6)]
    assert codes == [200] * 5 + [429]
    site.at(site.now + timedelta(minutes=16))  # the window has passed
    assert c.post("/sign-in", data={"email": BM_MAIL, "csrf_token": token}).status_code == 200


def test_sessions_end_when_idle_and_on_sign_out(site: Site):
    c = sign_in(site, BM_MAIL)
    site.at(site.now + timedelta(minutes=29))
    assert c.get("/").status_code == 200  # active: the idle clock restarts
    site.at(site.now + timedelta(minutes=30))
    assert c.get("/").headers.get("location") == "/sign-in"
    assert ("session_expired", BM) in audit_actions(site)
    c = sign_in(site, BM_MAIL)
    token = form_token(c.get("/").text)
    out = c.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    with records.orm(site.board.db) as s:
        ended = [w.ended_at for w in s.exec(select(WebSession)).scalars()]
    assert all(e is not None for e in ended)
    assert ("sign_out", BM) in audit_actions(site)


def test_sessions_end_at_their_absolute_lifetime(site: Site):
    c = sign_in(site, BM_MAIL)
    for _ in range(16):  # active every 29 minutes, for 7 hours 44 minutes
        site.at(site.now + timedelta(minutes=29))
        assert c.get("/").status_code == 200
    site.at(site.now + timedelta(minutes=20))  # 8 hours and 4 minutes after signing in
    assert c.get("/").status_code == 303


# ------------------------------------------------------------------------- security
def test_every_form_needs_its_token(site: Site):
    c = site.client()
    assert c.post("/sign-in", data={"email": BM_MAIL}).status_code == 403
    assert c.post("/sign-in", data={"email": BM_MAIL, "csrf_token": "forged"}).status_code == 403
    ref = site.board.refer(at=site.now)
    c = sign_in(site, BM_MAIL)
    no_token = c.post(f"/cases/{ref}/request_information", data={"agencies": "health"})
    assert no_token.status_code == 403
    assert site.board.state(ref) == "referral"


def test_pages_carry_the_security_headers(site: Site):
    c = sign_in(site, BM_MAIL)
    for path in ("/sign-in", "/", "/cases", "/no-such-page"):
        headers = c.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
    page = c.get("/").text
    assert "<script>" not in page and " style=" not in page  # nothing inline for the CSP
    assert "GOV.UK" not in page


def test_free_text_is_escaped_everywhere_it_is_shown(site: Site):
    evil = '<script>alert("x")</script>'
    ref = site.board.refer({**SCR_REFERRAL, "pseudonym": "Child <b>Z</b>", "summary": evil},
                           at=site.now)
    site.board.fire(ref, "amend_referral", at=site.now + timedelta(minutes=1),
                    reason=evil, harm="death")
    c = sign_in(site, BM_MAIL)
    page = c.get(f"/cases/{ref}").text
    assert evil not in page and "<b>Z</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    listed = c.get("/cases").text
    assert "<b>Z</b>" not in listed and "Child &lt;b&gt;Z&lt;/b&gt;" in listed
    # The free text of a published case's action plan, and the name of its owner.
    published = site.board.refer(at=site.now)
    at = site.board.walk(published, State.PUBLISHED, at=site.now)
    site.board.fire(published, "add_action", by="Sol Subchair", at=at, agency="health",
                    description=evil, owner='<img src=x onerror="alert(1)">', due="2027-06-01")
    site.at(at + timedelta(minutes=1))
    c = sign_in(site, BM_MAIL)
    page = c.get(f"/cases/{published}").text
    assert evil not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


# -------------------------------------------------------------------- who sees what
def test_an_agency_lead_sees_only_their_agencys_cases(site: Site):
    t = site.now
    theirs = site.board.refer(at=t)
    site.board.fire(theirs, "request_information", at=t + timedelta(minutes=1),
                    agencies="health,police")
    other = site.board.refer({**SCR_REFERRAL, "pseudonym": "Child Q"}, at=t)
    site.board.fire(other, "request_information", at=t + timedelta(minutes=1),
                    agencies="police")
    site.at(t + timedelta(minutes=2))
    c = sign_in(site, HEALTH_MAIL)
    assert c.get(f"/cases/{other}").status_code == 404
    assert c.get(f"/cases/{other}/record_return").status_code == 404
    assert c.get("/cases/CR-1999-0001").status_code == 404
    page = c.get(f"/cases/{theirs}")
    assert page.status_code == 200
    assert "Health" in page.text and "Police" not in page.text  # only their own return
    assert "free text" not in page.text  # the referral's summary is not theirs to read
    listed = c.get("/cases").text
    assert theirs in listed and other not in listed
    # Their inbox has their return to make, the deadline that names them, and nothing of
    # the other case.
    inbox = c.get("/").text
    assert f"/cases/{theirs}/record_return" in inbox and other not in inbox
    assert "Deadlines for you" in inbox and "Agency returns due (reminder)" in inbox
    bm = sign_in(site, BM_MAIL)
    assert "free text" in bm.get(f"/cases/{theirs}").text


# ------------------------------------------------------------------- forms and engine
def test_a_form_fires_the_trigger_as_the_person_signed_in(site: Site):
    ref = site.board.refer(at=site.now)
    c = sign_in(site, BM_MAIL)
    form = c.get(f"/cases/{ref}/request_information")
    assert form.status_code == 200
    assert 'name="agencies"' in form.text and 'name="if_version"' in form.text
    version = site.board.case(ref).version
    done = c.post(f"/cases/{ref}/request_information", data={
        "agencies": ["health", "police"], "urgent": "false",
        "if_version": str(version), "csrf_token": form_token(form.text)})
    assert done.status_code == 303 and done.headers["location"].startswith(f"/cases/{ref}")
    assert site.board.state(ref) == "information_request"
    last = records.case_history(site.board.db, ref)[-1]
    assert (last.trigger, last.actor, last.params["agencies"]) == (
        "request_information", BM, ["health", "police"])
    assert "done" in c.get(done.headers["location"]).text


def test_bad_input_is_shown_by_its_field_and_nothing_is_written(site: Site):
    ref = site.board.refer(at=site.now)
    site.at(site.board.walk(ref, State.SUB_GROUP, at=site.now))
    c = sign_in(site, BM_MAIL)
    before = site.board.case(ref).version
    form = c.get(f"/cases/{ref}/record_meeting")
    bad = c.post(f"/cases/{ref}/record_meeting", data={
        "date": "next tuesday", "if_version": str(before), "csrf_token": form_token(form.text)})
    assert bad.status_code == 400
    assert "There is a problem" in bad.text and 'href="#date"' in bad.text
    assert 'href="#attendees"' in bad.text  # the missing one too
    assert site.board.case(ref).version == before


def test_a_missing_reason_is_shown_by_the_reason_field_and_other_refusals_at_the_top(
        site: Site):
    """Withdrawing wants a reason (a property of the trigger, not a word in the message): the
    refusal links to the reason field and the field says so. A guard about the case, not
    the input, links to the top of the page."""
    ref = site.board.refer(at=site.now)
    c = sign_in(site, BM_MAIL)
    before = site.board.case(ref).version
    form = c.get(f"/cases/{ref}/withdraw")
    refused = c.post(f"/cases/{ref}/withdraw", data={
        "if_version": str(before), "csrf_token": form_token(form.text)})
    assert refused.status_code == 422
    assert 'href="#reason"' in refused.text and "Give a reason" in refused.text
    site.board.fire(ref, "request_information", at=site.now, agencies="health,police")
    form = c.get(f"/cases/{ref}/submit_to_sub_group")
    early = c.post(f"/cases/{ref}/submit_to_sub_group", data={
        "if_version": str(site.board.case(ref).version), "csrf_token": form_token(form.text)})
    assert early.status_code == 422 and "outstanding" in early.text
    assert 'href="#reason"' not in early.text and "Give a reason" not in early.text
    assert site.board.state(ref) == "information_request"


def test_a_stale_version_says_the_case_changed(site: Site):
    ref = site.board.refer(at=site.now)
    c = sign_in(site, BM_MAIL)
    form = c.get(f"/cases/{ref}/request_information")
    version = site.board.case(ref).version
    site.board.fire(ref, "amend_referral", at=site.now, reason="typo", harm="death")
    stale = c.post(f"/cases/{ref}/request_information", data={
        "agencies": "health", "if_version": str(version), "csrf_token": form_token(form.text)})
    assert stale.status_code == 409 and "The case changed" in stale.text
    assert site.board.state(ref) == "referral"
    assert f'name="if_version" value="{version + 1}"' in stale.text


def test_the_chair_commissions_from_the_inbox_and_nobody_else_can(site: Site):
    """The chair follows the link, sees why the sub-group recommends an SCR, and commissions
    it; the business manager, signed in, cannot do it in the chair's name."""
    ref = site.board.refer(at=site.now)
    site.at(site.board.walk(ref, State.CHAIR_DECISION, at=site.now))
    bm = sign_in(site, BM_MAIL)
    form = bm.get(f"/cases/{ref}/commission_scr")
    refused = bm.post(f"/cases/{ref}/commission_scr", data={
        "methodology": "scie_systems", "lead_reviewer": "Lee Reviewer",
        "if_version": str(site.board.case(ref).version), "csrf_token": form_token(form.text)})
    assert refused.status_code == 422 and "may not fire commission_scr" in refused.text
    assert site.board.state(ref) == "chair_decision"
    chair = sign_in(site, CHAIR_MAIL)
    inbox = chair.get("/").text
    assert f"/cases/{ref}/commission_scr" in inbox
    case = chair.get(f"/cases/{ref}").text
    assert "SCR criteria met" in case and "the child has died" in case
    # Why the sub-group recommends an SCR: its recommendation, by whom, and its reason.
    assert "recommended by Sol Subchair" in case
    assert '<p class="govuk-body scr-free-text">criteria met</p>' in case
    form = chair.get(f"/cases/{ref}/commission_scr")
    done = chair.post(f"/cases/{ref}/commission_scr", data={
        "methodology": "scie_systems", "lead_reviewer": "Lee Reviewer",
        "if_version": str(site.board.case(ref).version), "csrf_token": form_token(form.text)})
    assert done.status_code == 303
    stored = site.board.case(ref)
    assert (stored.state, stored.kind) == ("review", "scr")
    assert records.case_history(site.board.db, ref)[-1].actor == CHAIR


def test_a_refusal_shows_the_judges_reasons(site: Site):
    ref = site.board.refer(at=site.now)
    site.board.fire(ref, "request_information", at=site.now, agencies="health,police")
    c = sign_in(site, BM_MAIL)
    form = c.get(f"/cases/{ref}/submit_to_sub_group")
    assert "This cannot be done now" in form.text and "returns are outstanding" in form.text
    posted = c.post(f"/cases/{ref}/submit_to_sub_group", data={
        "if_version": str(site.board.case(ref).version), "csrf_token": form_token(form.text)})
    assert posted.status_code == 422 and "returns are outstanding" in posted.text


def test_no_page_shows_a_traceback(site: Site):
    c = sign_in(site, BM_MAIL)
    for path in ("/cases/%00", "/cases/CR-2026-0001/refer", "/cases/x/y/z"):
        page = c.get(path)
        assert page.status_code == 404, path
        assert "Traceback" not in page.text


def test_police_lead_cannot_record_healths_return(site: Site):
    ref = site.board.refer(at=site.now)
    site.board.fire(ref, "request_information", at=site.now, agencies="health,police")
    c = sign_in(site, "police@board.test")
    form = c.get(f"/cases/{ref}/record_return")
    posted = c.post(f"/cases/{ref}/record_return", data={
        "agency": "health", "view": "scr", "summary": "not ours",
        "if_version": str(site.board.case(ref).version), "csrf_token": form_token(form.text)})
    assert posted.status_code == 422 and f"{POLICE} may not fire record_return" in posted.text
    with records.orm(site.board.db) as s:
        assert s.exec(select(Case.version).where(Case.ref == ref)).scalar_one() == \
            site.board.case(ref).version


def test_the_other_pages_answer_and_the_pictures_are_pictures(site: Site):
    ref = site.board.refer(at=site.now)
    site.board.fire(ref, "request_information", at=site.now, agencies="health,police")
    site.at(site.now + timedelta(days=30))  # the returns are overdue
    c = sign_in(site, BM_MAIL)
    overdue = c.get("/overdue")
    assert overdue.status_code == 200 and ref in overdue.text
    report = c.get("/report?from=2026-01-01&to=2026-12-31")
    assert report.status_code == 200 and "Referrals received" in report.text
    assert "Learning from reviews elsewhere" in report.text
    assert "Signed-off actions no audit has tested" in report.text
    assert c.get("/report?from=nonsense").status_code == 400
    picture = c.get(f"/cases/{ref}/timeline.svg")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/svg+xml"
    assert picture.text.lstrip().startswith(("<svg", "<?xml"))
    lifecycle = c.get("/lifecycle")
    assert lifecycle.status_code == 200 and "Child Safeguarding Practice Review" in lifecycle.text
    assert c.get("/lifecycle?process=scr&version=1").status_code == 200
    assert c.get("/lifecycle?process=nope").status_code == 404
    drawn = c.get("/lifecycle.svg?process=scr&version=2")
    assert drawn.status_code == 200 and "record_notification" in drawn.text
    # A health lead sees no overdue deadline of a case their agency was not asked about.
    other = site.board.refer({**SCR_REFERRAL, "pseudonym": "Child Q"}, at=site.now)
    site.board.fire(other, "request_information", at=site.now, agencies="police")
    site.at(site.now + timedelta(days=30))
    lead = sign_in(site, HEALTH_MAIL)
    seen = lead.get("/overdue").text
    assert ref in seen and other not in seen
    assert lead.get(f"/cases/{other}/timeline.svg").status_code == 404


def test_e_mail_links_to_the_case_and_to_what_the_recipient_may_do(site: Site):
    ref = site.board.refer(at=site.now)
    c = sign_in(site, BM_MAIL)
    form = c.get(f"/cases/{ref}/request_information")
    c.post(f"/cases/{ref}/request_information", data={
        "agencies": "health", "if_version": str(site.board.case(ref).version),
        "csrf_token": form_token(form.text)})
    site.deliver()
    to_health = [m for m in site.mails() if b"health@board.test" in m.split(b"\n\n", 1)[0]
                 and b"Information requested" in m]
    assert to_health, "the health lead was not e-mailed"
    import email

    message = email.message_from_bytes(to_health[-1])
    body = next(part.get_payload(decode=True).decode() for part in message.walk()
                if part.get_content_type() == "text/plain")
    assert f"{site.url}/cases/{ref}" in body
    assert f"{site.url}/cases/{ref}/record_return" in body  # what a lead of an agency asked does
    assert f"/cases/{ref}/add_agency" not in body  # the business manager's, not theirs
    assert "/sign-in/" not in body


def test_a_case_on_publication_hold_shows_its_proceedings_and_outputs(site: Site):
    ref = site.board.refer({**SCR_REFERRAL, "criminal_proceedings": True}, at=site.now)
    at = site.board.walk(ref, State.PUBLICATION_HOLD, at=site.now)
    site.board.fire(ref, "record_output", at=at, output="overview_report",
                    location="https://x.test")
    site.at(at + timedelta(minutes=1))
    page = sign_in(site, BM_MAIL).get(f"/cases/{ref}").text
    assert "Criminal proceedings" in page and "Pending" in page
    assert "Overview report" in page


def test_the_case_page_gives_free_text_only_to_its_readers(site: Site):
    """The business manager reads the summaries an amendment replaced, every agency's
    return and every action's evidence; an agency lead reads only their own agency's
    return and evidence, and sees that another's evidence was given, without its text."""
    t = site.now
    asked = site.board.refer({**SCR_REFERRAL, "summary": "First account."}, at=t)
    site.board.fire(asked, "amend_referral", at=t + timedelta(minutes=1), reason="fuller",
                    summary="Second account.")
    site.board.fire(asked, "request_information", at=t + timedelta(minutes=2),
                    agencies="health,police")
    for agency, lead in (("health", HEALTH), ("police", POLICE)):
        site.board.fire(asked, "record_return", at=t + timedelta(minutes=3), by=lead,
                        agency=agency, view="scr", summary=f"Return of {agency} in full.")
    published = site.board.refer(at=t)
    at = site.board.walk(published, State.PUBLISHED, at=t)
    for number, (agency, lead) in enumerate((("health", HEALTH), ("police", POLICE)), 1):
        site.board.fire(published, "add_action", at=at, by="Sol Subchair", agency=agency,
                        description="Training", owner=lead, due="2027-06-01")
        site.board.fire(published, "complete_action", at=at, by=lead, action=str(number),
                        evidence=f"Evidence of {agency} in full.")
    site.at(at + timedelta(minutes=1))
    bm = sign_in(site, BM_MAIL)
    page = bm.get(f"/cases/{asked}").text
    for text in ("Second account.", "First account.", "Return of health in full.",
                 "Return of police in full."):
        assert text in page
    page = bm.get(f"/cases/{published}").text
    assert "Evidence of health in full." in page and "Evidence of police in full." in page
    health = sign_in(site, HEALTH_MAIL)
    page = health.get(f"/cases/{asked}").text
    assert "Return of health in full." in page
    assert "Return of police" not in page and "account." not in page
    page = health.get(f"/cases/{published}").text
    assert "Evidence of health in full." in page and "Evidence of police" not in page
    assert "Given; it is not shown to you." in page


def test_forms_warn_that_free_text_is_kept_for_good(site: Site):
    """A milestone's and an action's description field, and the reason, say that what is
    typed there is kept for good and must not name the child or family."""
    never = "never name the child or family"
    review = site.board.refer(at=site.now)
    site.at(site.board.walk(review, State.REVIEW, at=site.now))
    c = sign_in(site, BM_MAIL)
    form = c.get(f"/cases/{review}/record_milestone").text
    assert f"Kept for good in the case&#39;s history (never e-mailed): {never}." in form
    assert f"told to the people e-mailed, so {never}." in form
    published = site.board.refer(at=site.now)
    site.at(site.board.walk(published, State.PUBLISHED, at=site.now))
    form = sign_in(site, BM_MAIL).get(f"/cases/{published}/add_action").text
    assert f"What is to be done. Kept for good in the case record (never e-mailed): " \
        f"{never}." in form


def test_forms_name_fields_and_choices_in_words(site: Site):
    """The trigger forms use the words e-mail and the command line use (states/words.py):
    no identifier with an underscore reaches a label or a choice."""
    import re

    ref = site.board.refer(at=site.now)
    c = sign_in(site, BM_MAIL)
    form = c.get(f"/cases/{ref}/request_information").text
    assert "Children&#39;s social care" in form
    amend = c.get(f"/cases/{ref}/amend_referral").text
    assert "Life-threatening injury" in amend
    assert "Concern about how agencies worked together" in amend
    shown = re.sub(r'(name|value|id|for|aria-describedby|href|action)="[^"]*"', "", amend)
    assert not re.findall(r">[^<]*\b[a-z]+_[a-z_]+\b[^<]*<", shown)


def test_lists_of_cases_show_nothing_to_a_person_without_a_role(site: Site):
    """A person whose roles were all taken away sees no row of a list, as each case page is
    not found to them; an agency lead sees their agency's; the rest see every case."""
    from scr.lifecycle.web import access
    from scr.lifecycle.web.identity import Visitor
    from scr.storage import cases
    from scr.storage.db import reading
    from scr.storage.users import UserRecord

    ref = site.board.refer(at=site.now)
    rows = [{"ref": ref}]
    nobody = Visitor(0, UserRecord(0, "No Role", "n@board.test", None, True, (), None), "t")
    lead = Visitor(0, UserRecord(0, "Lead", "l@board.test", "health", True,
                                 ("agency_lead",), None), "t")
    chair = Visitor(0, UserRecord(0, "Chair", "c@board.test", None, True, ("chair",), None),
                    "t")
    with reading(site.board.db) as tx:
        assert access.visible(tx, nobody, rows) == []
        assert access.visible(tx, lead, rows) == []  # health was not asked
        assert access.visible(tx, chair, rows) == rows
        assert not access.may_see(tx, nobody, cases.load(tx, ref))
