"""Signing in to the portal through the board's OpenID Connect provider: a real provider
(tests/web/oidc_provider.py) beside the real portal, the browser's redirects followed by
hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from scr.lifecycle.web.oidc import OidcSettings
from scr.storage.models import UserAudit, WebSession
from tests import records
from tests.web.conftest import Site
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider, serve


@pytest.fixture
def idp(site: Site) -> Iterator[OidcProvider]:
    provider = OidcProvider(redirect_uri=f"{site.url}/sign-in/oidc/callback")
    with serve(provider):
        settings = site.portal.settings
        site.portal.settings = replace(settings, web=replace(settings.web, oidc=OidcSettings(
            issuer=provider.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
            label="Sign in with the council's account")))
        site.at(datetime.now(UTC))  # the provider's tokens are stamped with the real time
        yield provider


def through_provider(site: Site, client) -> object:
    """Start at the portal, go to the provider and come back: the portal's last answer."""
    out = client.get("/sign-in/oidc")
    assert out.status_code == 303 and out.headers["location"].startswith(
        site.portal.settings.web.oidc.issuer)
    assert "scr_oidc" in client.cookies
    back = client.get(out.headers["location"])  # the provider's /authorize
    assert back.status_code in (302, 303)
    callback = urlsplit(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query}")


def test_a_user_signs_in_with_the_organisations_account(site: Site, idp: OidcProvider):
    idp.behaviour.email = "Chair@Board.Test"  # the provider's spelling of the address
    c = site.client()
    page = c.get("/sign-in").text
    assert "Sign in with the council&#39;s account" in page and 'href="/sign-in/oidc"' in page
    done = through_provider(site, c)
    assert done.status_code == 303 and done.headers["location"] == "/"
    inbox = c.get("/")
    assert inbox.status_code == 200 and "Ivy Chair" in inbox.text
    with records.orm(site.board.db) as s:
        methods = [w.method for w in s.exec(select(WebSession)).scalars()]
        audit = [(a.action, a.user_name, a.details.get("method"))
                 for a in s.exec(select(UserAudit)).scalars()]
    assert methods == ["oidc"]
    assert ("sign_in", "Ivy Chair", "oidc") in audit


def test_an_address_the_board_does_not_know_signs_nobody_in(site: Site, idp: OidcProvider):
    idp.behaviour.email = "someone@elsewhere.test"
    c = site.client()
    refused = through_provider(site, c)
    assert refused.status_code == 403 and "no user with the address" in refused.text
    assert "scr_session" not in c.cookies
    assert c.get("/").status_code == 303


def test_a_refusal_or_a_forged_answer_is_on_record(site: Site, idp: OidcProvider):
    idp.behaviour.deny = True
    c = site.client()
    refused = through_provider(site, c)
    assert refused.status_code == 400 and "scr_session" not in c.cookies
    idp.behaviour.deny = False
    idp.behaviour.issuer = "https://impostor.example"
    forged = through_provider(site, site.client())
    assert forged.status_code == 400
    with records.orm(site.board.db) as s:
        failures = [a.details for a in s.exec(select(UserAudit)).scalars()
                    if a.action == "sign_in_failed"]
    assert len(failures) == 2 and all(f["method"] == "oidc" for f in failures)


def test_without_a_provider_there_is_no_such_sign_in(site: Site):
    c = site.client()
    assert "/sign-in/oidc" not in c.get("/sign-in").text
    assert c.get("/sign-in/oidc").status_code == 404


def test_the_provider_is_configured_in_web_oidc_with_its_secret_in_the_environment(tmp_path):
    from scr.lifecycle.settings import load
    from scr.states.errors import InvalidInput

    config = tmp_path / "scr.toml"
    config.write_text('[web.oidc]\nissuer = "https://login.example/tenant/v2.0"\n'
                      'client_id = "abc"\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="SCR_OIDC_CLIENT_SECRET"):
        load(config_file=str(config), environ={})
    made = load(config_file=str(config), environ={"SCR_OIDC_CLIENT_SECRET": "s3cret"})
    assert (made.web.oidc.issuer, made.web.oidc.client_id) == (
        "https://login.example/tenant/v2.0", "abc")
    assert "s3cret" not in repr(made)
    config.write_text('[web.oidc]\nissuer = "https://login.example/"\nclient_id = "abc"\n'
                      'client_secret = "in the file"\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="goes in SCR_OIDC_CLIENT_SECRET"):
        load(config_file=str(config), environ={"SCR_OIDC_CLIENT_SECRET": "s"})
    config.write_text('[web.oidc]\nissuer = "http://login.example/"\nclient_id = "abc"\n',
                      encoding="utf-8")
    with pytest.raises(InvalidInput, match="https://"):
        load(config_file=str(config), environ={"SCR_OIDC_CLIENT_SECRET": "s"})
