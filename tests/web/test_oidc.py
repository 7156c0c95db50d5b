"""Sign-in through an OpenID Connect provider (lifecycle/web/oidc.py), against the real
provider of tests/web/oidc_provider.py over HTTP: the browser's part is done by hand (the
authorization address is fetched without following, its redirect read and its query given
to `finish`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from scr.lifecycle.web import oidc
from scr.lifecycle.web.oidc import OidcError, OidcSettings
from tests.web.conftest import TLS
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, OidcProvider, serve

KEY = b"k" * 32


@pytest.fixture(scope="module")
def running() -> Iterator[OidcProvider]:
    with serve(OidcProvider()) as provider:
        yield provider


@pytest.fixture
def idp(running: OidcProvider) -> OidcProvider:
    running.reset()
    return running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5, follow_redirects=False, verify=TLS) as client:
        yield client


def settings_for(idp: OidcProvider, **changes: str) -> OidcSettings:
    return OidcSettings(issuer=idp.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                        **changes)


def now() -> datetime:
    return datetime.now(UTC)


class Attempt:
    """One sign-in: discovered, started, and the provider's redirect back as a query."""

    def __init__(self, idp: OidcProvider, http: httpx.Client, **changes: str) -> None:
        self.http = http
        self.settings = settings_for(idp, **changes)
        self.provider = oidc.discover(self.settings, http=http)
        self.started = oidc.start(self.provider, self.settings, redirect_uri=REDIRECT_URI,
                                  key=KEY, now=now())
        self.query = self.authorize()

    def authorize(self) -> dict[str, str]:
        answer = self.http.get(self.started.url)
        assert answer.status_code == 302, answer.text
        back = urlsplit(answer.headers["location"])
        assert f"{back.scheme}://{back.netloc}{back.path}" == REDIRECT_URI
        return dict(parse_qsl(back.query))

    def finish(self, *, query: dict[str, str] | None = None, cookie: str | None = "",
               key: bytes = KEY, at: datetime | None = None) -> str:
        return oidc.finish(self.provider, self.settings,
                           query=self.query if query is None else query,
                           cookie=self.started.cookie if cookie == "" else cookie,
                           redirect_uri=REDIRECT_URI, key=key, now=at or now(),
                           http=self.http)


def test_the_happy_path_gives_the_verified_address_lower_cased(idp):
    idp.behaviour.email = "Chair@Board.Example"
    settings = settings_for(idp)
    provider = oidc.discover(settings)  # its own HTTP client, as the portal calls it
    assert (provider.authorization_endpoint, provider.token_endpoint, provider.jwks_uri) == (
        f"{idp.url}/authorize", f"{idp.url}/token", f"{idp.url}/jwks")
    started = oidc.start(provider, settings, redirect_uri=REDIRECT_URI, key=KEY, now=now())
    asked = dict(parse_qsl(urlsplit(started.url).query))
    assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
    assert asked["redirect_uri"] == REDIRECT_URI and asked["scope"] == "openid email profile"
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["state"] and asked["nonce"] and asked["state"] != asked["nonce"]
    with httpx.Client(follow_redirects=False, verify=TLS) as browser:
        query = dict(parse_qsl(urlsplit(browser.get(started.url).headers["location"]).query))
    assert query["state"] == asked["state"] and query["code"]
    email = oidc.finish(provider, settings, query=query, cookie=started.cookie,
                        redirect_uri=REDIRECT_URI, key=KEY, now=now())
    assert email == "chair@board.example"
    assert idp.auth_used == ["client_secret_post"] and idp.jwks_fetches == 1


def test_client_secret_basic_when_the_provider_offers_only_that(idp, http):
    idp.auth_methods = ["client_secret_basic"]
    attempt = Attempt(idp, http)
    assert attempt.provider.token_auth_method == "client_secret_basic"
    assert attempt.finish() == "chair@board.example"
    assert idp.auth_used == ["client_secret_basic"]  # the odd characters survived encoding


def test_an_es256_token_is_accepted(idp, http):
    idp.behaviour.alg = "ES256"
    assert Attempt(idp, http).finish() == "chair@board.example"


def test_the_cookie_is_signed_and_expires_in_ten_minutes(idp, http):
    attempt = Attempt(idp, http)
    version, payload, mac = attempt.started.cookie.split(".")
    values = json.loads(oidc._unb64(payload))
    assert version == "v1" and set(values) == {"s", "n", "v", "e"} and len(mac) == 43
    assert values["s"] == attempt.query["state"]
    assert 0 < values["e"] - now().timestamp() <= 600


def test_a_state_that_does_not_match_is_refused(idp, http):
    attempt = Attempt(idp, http)
    with pytest.raises(OidcError, match="does not belong to this sign-in attempt"):
        attempt.finish(query={**attempt.query, "state": "someone-elses"})
    with pytest.raises(OidcError, match="does not belong"):
        attempt.finish(query={k: v for k, v in attempt.query.items() if k != "state"})


@pytest.mark.parametrize("forge", ["missing", "garbage", "changed", "other key", "truncated"])
def test_a_missing_or_forged_cookie_is_refused(idp, http, forge):
    attempt = Attempt(idp, http)
    version, payload, mac = attempt.started.cookie.split(".")
    values = json.loads(oidc._unb64(payload))
    if forge == "missing":
        cookie, why = None, "holds no sign-in attempt"
    elif forge == "garbage":
        cookie, why = "not a cookie at all", "could not be checked"
    elif forge == "changed":  # a browser putting its own state in, keeping the signature
        values["e"] += 3600
        cookie, why = f"v1.{oidc._b64(json.dumps(values).encode())}.{mac}", "could not be"
    elif forge == "other key":
        cookie, why = oidc._seal(values, b"o" * 32), "could not be checked"
    else:
        cookie, why = f"{version}.{payload}.{mac[:-2]}", "could not be checked"
    with pytest.raises(OidcError, match=why):
        attempt.finish(cookie=cookie)


def test_a_cookie_older_than_ten_minutes_is_refused(idp, http):
    attempt = Attempt(idp, http)
    with pytest.raises(OidcError, match="took longer than 10 minutes"):
        attempt.finish(at=now() + timedelta(minutes=10, seconds=1))
    assert attempt.finish(at=now() + timedelta(minutes=9)) == "chair@board.example"


def test_the_providers_refusal_is_an_error_with_its_code_only(idp, http):
    idp.behaviour.deny = True
    attempt = Attempt(idp, http)
    assert attempt.query["error"] == "access_denied"
    with pytest.raises(OidcError) as caught:
        attempt.finish()
    assert str(caught.value) == ("Your organisation's sign-in service refused the sign-in "
                                 "(access_denied).")
    with pytest.raises(OidcError, match=r"\(an unknown error\)"):
        attempt.finish(query={**attempt.query, "error": "<script>alert(1)</script>",
                              "error_description": "anything at all"})


@pytest.mark.parametrize(("change", "why"), [
    ({"issuer": "https://login.example/another"}, "issued by another identity provider"),
    ({"audience": "another-client"}, "issued for another application"),
    ({"audience": ["another-client", "and-one-more"]}, "issued for another application"),
    ({"nonce": "not-the-one-asked-for"}, "does not belong to this sign-in attempt"),
    ({"expired": True}, "has expired"),
    ({"other_key": True}, "signature does not match"),
    ({"unknown_kid": True}, "key the identity provider does not publish"),
    ({"alg": "none"}, "not signed with RS256 or ES256"),
    ({"alg": "HS256"}, "not signed with RS256 or ES256"),
    ({"email_verified": False}, "has not verified its e-mail address"),
    ({"extra_claims": {"email_verified": "true"}}, "has not verified"),
    ({"email": ""}, "gave no e-mail address"),
    ({"extra_claims": {"iat": 4102444800}}, "issued in the future"),
])
def test_an_id_token_that_does_not_hold_is_refused(idp, http, change, why):
    for name, value in change.items():
        setattr(idp.behaviour, name, value)
    attempt = Attempt(idp, http)
    with pytest.raises(OidcError, match=why) as caught:
        attempt.finish()
    assert attempt.query["code"] not in str(caught.value)


def test_a_token_without_email_verified_is_accepted(idp, http):
    idp.behaviour.email_verified = None  # as Entra ID sends it
    assert Attempt(idp, http).finish() == "chair@board.example"


def test_preferred_username_is_read_when_configured(idp, http):
    idp.behaviour.email_verified = False  # of `email`: not what is read
    idp.behaviour.extra_claims = {"preferred_username": "Chair.Person@Tenant.Example"}
    attempt = Attempt(idp, http, email_claim="preferred_username")
    assert attempt.finish() == "chair.person@tenant.example"


def test_keys_are_kept_and_fetched_again_once_after_rotation(idp, http):
    attempt = Attempt(idp, http)
    assert attempt.finish() == "chair@board.example" and idp.jwks_fetches == 1
    attempt.started = oidc.start(attempt.provider, attempt.settings, redirect_uri=REDIRECT_URI,
                                 key=KEY, now=now())
    attempt.query = attempt.authorize()
    assert attempt.finish() == "chair@board.example" and idp.jwks_fetches == 1  # kept
    idp.rotate()
    attempt.started = oidc.start(attempt.provider, attempt.settings, redirect_uri=REDIRECT_URI,
                                 key=KEY, now=now())
    attempt.query = attempt.authorize()
    assert attempt.finish() == "chair@board.example" and idp.jwks_fetches == 2  # once more


def test_an_unknown_key_is_fetched_for_once_only(idp, http):
    idp.behaviour.unknown_kid = True
    attempt = Attempt(idp, http)
    with pytest.raises(OidcError, match="does not publish"):
        attempt.finish()
    assert idp.jwks_fetches == 2  # the first fetch, and one more for the unknown kid


def test_a_code_works_once_and_a_wrong_secret_is_refused(idp, http):
    attempt = Attempt(idp, http)
    assert attempt.finish() == "chair@board.example"
    with pytest.raises(OidcError, match=r"did not accept this sign-in \(invalid_grant\)"):
        attempt.finish()
    attempt = Attempt(idp, http)
    attempt.settings = OidcSettings(issuer=idp.url, client_id=CLIENT_ID,
                                    client_secret="wrong")
    with pytest.raises(OidcError, match=r"\(invalid_client\)"):
        attempt.finish()
    assert "wrong" not in repr(attempt.settings)


def test_discovery_checks_the_issuer(idp, http):
    idp.behaviour.discovery_issuer = "https://login.example/{tenantid}/v2.0"
    with pytest.raises(OidcError, match=r"calls itself https://login\.example/\{tenantid\}/v2\.0"):
        oidc.discover(settings_for(idp), http=http)
    with pytest.raises(OidcError, match=r"not an https:// address"):
        oidc.discover(OidcSettings(issuer="http://login.example", client_id="c",
                                   client_secret="s"), http=http)
    with pytest.raises(OidcError, match="could not be reached"):
        oidc.discover(OidcSettings(issuer="http://127.0.0.1:9", client_id="c",
                                   client_secret="s"), http=http)


def test_a_short_key_is_a_programming_error(idp, http):
    attempt = Attempt(idp, http)
    with pytest.raises(ValueError, match="32 bytes"):
        oidc.start(attempt.provider, attempt.settings, redirect_uri=REDIRECT_URI,
                   key=b"short", now=now())
