"""Who is this (lifecycle/web/auth.py): the session middleware on the pages that want a
person, and the guard on each of them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from starlette.requests import HTTPConnection
from starlette.routing import Route

from scr.lifecycle.web.auth import Sessions
from scr.lifecycle.web.identity import SESSION_COOKIE, Visitor
from tests.board import BM
from tests.statements import counted
from tests.web.conftest import Site, sign_in
from tests.web.test_portal import BM_MAIL, audit_actions

# A value for each path parameter of the portal's routes.
PARAMS = {"ref": "CR-2026-0001", "trigger": "request_information", "token": "x"}


def test_every_page_but_signing_in_sends_a_stranger_to_sign_in(site: Site):
    """Each route, in each of its methods, answers a visitor with no session (or a forged
    one) as the portal always has: 303 to /sign-in, before any form is read; the sign-in
    pages answer them."""
    routes = [r for r in site.app.routes if isinstance(r, Route)]
    guarded = [r for r in routes if not r.path.startswith("/sign-in")]
    assert {r.path for r in guarded} >= {"/", "/cases", "/learning", "/sign-out", "/report"}
    stranger, forged = site.client(), site.client()
    forged.cookies.set(SESSION_COOKIE, "forged")
    for route in guarded:
        path = route.path.format(**PARAMS)
        for method in sorted(route.methods or ()):
            for c in (stranger, forged):
                answer = c.request(method, path)
                assert (answer.status_code, answer.headers.get("location")) == \
                    (303, "/sign-in"), (method, path)
    for route in routes:
        if route.path.startswith("/sign-in") and "GET" in (route.methods or ()):
            assert stranger.get(route.path.format(**PARAMS)).status_code != 303, route.path


def test_the_sign_in_pages_the_assets_and_a_missing_page_read_no_session(site: Site):
    """The middleware stands only on the pages that want a person: the others read no
    session, so they neither restart its idle clock nor end it, and a method a route does
    not take is still 405."""
    c = sign_in(site, BM_MAIL)
    site.at(site.now + timedelta(minutes=29))
    with counted() as seen:
        assert c.get("/sign-in").status_code == 200
        assert c.get("/static/scr.css").status_code == 200
        assert c.get("/no-such-page").status_code == 404
        assert c.put("/sign-in").status_code == 405 and c.delete("/cases").status_code == 405
    assert seen == []
    site.at(site.now + timedelta(minutes=1))  # 30 minutes idle: the visits above were none
    assert c.get("/").headers.get("location") == "/sign-in"
    assert ("session_expired", BM) in audit_actions(site)


def test_the_person_signed_in_is_the_requests_user_with_their_roles_as_scopes(site: Site):
    c = sign_in(site, BM_MAIL)
    cookie = c.cookies[SESSION_COOKIE]

    def who(value: str) -> object:
        scope = {"type": "http", "app": site.app,
                 "headers": [(b"cookie", f"{SESSION_COOKIE}={value}".encode())]}
        return asyncio.run(Sessions().authenticate(HTTPConnection(scope)))

    found = who(cookie)
    assert found is not None
    credentials, user = found  # type: ignore[misc]
    assert credentials.scopes == ["authenticated", "business_manager"]
    assert isinstance(user, Visitor) and user.is_authenticated
    assert (user.display_name, user.identity) == (BM, BM_MAIL)
    assert who("forged") is None
