"""Sign-in through the board's identity provider: OpenID Connect (Microsoft Entra ID or any
provider that speaks it), beside the e-mail link of `identity`.

The flow is the authorization code flow with PKCE, for a confidential client:

- `discover` reads `{issuer}/.well-known/openid-configuration` once; the document must name
  the configured issuer exactly (so Entra ID's shared `common` and `organizations` addresses,
  whose documents name no one tenant, are refused: configure the tenant's own issuer,
  `https://login.microsoftonline.com/<tenant id>/v2.0`).
- `start` gives the address to send the browser to and a value for a short-lived cookie
  (COOKIE_SECONDS) that binds this browser to this attempt: the `state`, the `nonce` and the
  PKCE verifier.
- `finish` takes the query of the provider's redirect back and that cookie; it checks them,
  exchanges the code at the token endpoint, verifies the ID token and returns the person's
  verified e-mail address, lower-cased. The app maps it to a user (storage.users.by_email)
  and starts a session exactly as after an e-mail link.

The cookie is `v1.<payload>.<mac>`: `payload` is the base64url (unpadded) of the JSON
object `{"s": state, "n": nonce, "v": PKCE verifier, "e": expiry in Unix seconds}`, and
`mac` the base64url of HMAC-SHA256 under the caller's key (32 bytes or more) of the ASCII
bytes `scr-oidc-v1.<payload>`. It is signed, not encrypted: the browser can read the values
but cannot change them or make its own, and they are worth nothing without the browser
itself (the cookie should be HttpOnly and, over HTTPS, Secure, and cleared once used).

The ID token is verified with joserfc, the JOSE library of Authlib (its `authlib.jose` is
deprecated for it): the signature with a key of the provider's JWKS, RS256 or ES256 only
(never "none", never an HMAC); its claims with Authlib's `CodeIDToken`: `iss` equal to the
issuer, `aud` holding the client id (and `azp` the client id when it is there or when there
are several audiences), `exp`, `iat` and `nbf` within LEEWAY_SECONDS of `now`, `nonce` equal
to the cookie's, `at_hash` when present. The JWKS is kept once fetched and fetched again once
when a token names a key (`kid`) it does not hold: the provider rotated its keys. The token
comes straight from the provider's token endpoint, never through the browser, so only the
provider can cause that second fetch.

The address is the `email_claim` (`email` by default). When that claim is `email` and the
token carries `email_verified`, it must be true (JSON true); a token without
`email_verified` is accepted, because Entra ID does not send it: its `email` is the
tenant's own record of the person, kept by the tenant's administrators, which is why the
issuer must name one tenant. With `email_claim = "preferred_username"` (Entra ID's sign-in
name) `email_verified`, which speaks of `email`, is not consulted.

Every failure is an OidcError whose message is one sentence for a person (it may be shown on
the page and kept in the audit trail): it never holds a token, a code or a secret. Nothing
here logs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet

COOKIE_SECONDS = 600  # how long a sign-in attempt (and its cookie) lasts
LEEWAY_SECONDS = 60  # clock skew allowed on the ID token's exp, iat and nbf
ALGORITHMS = ("RS256", "ES256")  # what an ID token may be signed with
TIMEOUT = httpx.Timeout(10.0)  # each request, when no client is given
MIN_KEY_BYTES = 32
_COOKIE_VERSION = "v1"
_MAC_LABEL = b"scr-oidc-v1."
_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")  # an OAuth error code fit to repeat
_SERVICE = "your organisation's sign-in service"
_SERVICE_CAP = "Your organisation's sign-in service"  # at the start of a sentence
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")
_AGAIN = "start again from the sign-in page"


class OidcError(Exception):
    """A sign-in through the identity provider failed: one sentence a person can read."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str  # e.g. https://login.microsoftonline.com/<tenant>/v2.0
    client_id: str
    client_secret: str = field(repr=False)
    label: str = "Sign in with your organisation's account"
    scopes: str = "openid email profile"
    email_claim: str = "email"  # Entra ID: "email" or "preferred_username"


@dataclass(eq=False)
class Provider:
    """The provider's endpoints, from its discovery document, and its keys once fetched.
    Safe to share between threads."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    # How the client authenticates at the token endpoint: client_secret_post when the
    # provider offers it, else client_secret_basic (the default of OpenID Connect).
    token_auth_method: str = "client_secret_basic"
    _keys: KeySet | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def keys(self, http: httpx.Client, *, refresh: bool = False,
             stale: KeySet | None = None) -> KeySet:
        """The provider's signing keys: those fetched before, or fetched now (the first
        time, or with `refresh` unless another thread fetched since `stale` was read)."""
        current = self._keys
        if current is not None and not (refresh and current is stale):
            return current
        with self._lock:  # one fetch at a time; the others then use what it fetched
            if self._keys is not None and not (refresh and self._keys is stale):
                return self._keys
            data = _get_json(http, self.jwks_uri, "its signing keys")
            try:
                found = [k for k in data["keys"]
                         if isinstance(k, dict) and k.get("use") in (None, "sig")]
                self._keys = KeySet.import_key_set({"keys": found})
            except (JoseError, KeyError, TypeError, ValueError):
                raise OidcError(f"The signing keys of {_SERVICE} could not be read.") from None
            return self._keys


def discover(settings: OidcSettings, *, http: httpx.Client | None = None) -> Provider:
    """The provider named by `settings.issuer`, from its discovery document."""
    issuer = settings.issuer
    _require_secure(issuer, issuer)
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    with _client(http) as client:
        meta = _get_json(client, url, "its configuration")
    named = meta.get("issuer")
    if named != issuer:
        shown = named if isinstance(named, str) and re.match(r"^https?://[!-~]{1,200}$", named) \
            else "another issuer"
        raise OidcError(f"The identity provider at {issuer} calls itself {shown}: the "
                        "board's issuer setting must be the provider's own issuer.")
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = meta.get(name)
        if not isinstance(value, str) or not value:
            raise OidcError(f"The identity provider's configuration gives no {name}.")
        _require_secure(value, issuer)
        endpoints[name] = value
    types = meta.get("response_types_supported")
    if isinstance(types, list) and "code" not in types:
        raise OidcError("The identity provider does not offer the authorization code flow.")
    algs = meta.get("id_token_signing_alg_values_supported")
    if isinstance(algs, list) and not set(algs) & set(ALGORITHMS):
        raise OidcError("The identity provider signs ID tokens with neither RS256 nor ES256.")
    methods = meta.get("token_endpoint_auth_methods_supported")
    method = "client_secret_basic"
    if isinstance(methods, list):
        if "client_secret_post" in methods:
            method = "client_secret_post"
        elif "client_secret_basic" not in methods:
            raise OidcError("The identity provider accepts neither client_secret_post nor "
                            "client_secret_basic at its token endpoint.")
    return Provider(issuer=issuer, token_auth_method=method, **endpoints)


@dataclass(frozen=True)
class Started:
    url: str  # where to send the browser: the authorization endpoint, with its parameters
    cookie: str  # for a short-lived HttpOnly cookie (COOKIE_SECONDS) binding the browser


def start(provider: Provider, settings: OidcSettings, *, redirect_uri: str, key: bytes,
          now: datetime) -> Started:
    """A new sign-in attempt: the authorization request and the cookie that binds it."""
    _check_key(key)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)  # 64 characters (RFC 7636: 43 to 128)
    expires = int(_timestamp(now)) + COOKIE_SECONDS
    params = {
        "response_type": "code", "client_id": settings.client_id,
        "redirect_uri": redirect_uri, "scope": settings.scopes, "state": state,
        "nonce": nonce, "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    return Started(_with_query(provider.authorization_endpoint, params),
                   _seal({"s": state, "n": nonce, "v": verifier, "e": expires}, key))


def finish(provider: Provider, settings: OidcSettings, *, query: Mapping[str, str],
           cookie: str | None, redirect_uri: str, key: bytes, now: datetime,
           http: httpx.Client | None = None) -> str:
    """The verified e-mail address, lower-cased, of the person the provider's redirect back
    (`query`) vouches for; OidcError when anything does not hold."""
    _check_key(key)
    attempt = _open(cookie, key, now)
    if not hmac.compare_digest(str(query.get("state", "")).encode(), attempt["s"].encode()):
        raise OidcError("The answer from your organisation's sign-in does not belong to this "
                        f"sign-in attempt: {_AGAIN}.")
    if "error" in query:
        raise OidcError(f"{_SERVICE_CAP} refused the sign-in "
                        f"({_code(query.get('error'))}).")
    code = query.get("code")
    if not isinstance(code, str) or not code:
        raise OidcError(f"The answer from {_SERVICE} holds no authorization code: {_AGAIN}.")
    with _client(http) as client:
        tokens = _exchange(client, provider, settings, code=code, verifier=attempt["v"],
                           redirect_uri=redirect_uri)
        claims = _verify(client, provider, settings, tokens, nonce=attempt["n"], now=now)
    return _address(claims, settings.email_claim)


# The cookie


def _seal(values: dict[str, Any], key: bytes) -> str:
    payload = _b64(json.dumps(values, separators=(",", ":")).encode())
    return f"{_COOKIE_VERSION}.{payload}.{_mac(payload, key)}"


def _mac(payload: str, key: bytes) -> str:
    return _b64(hmac.new(key, _MAC_LABEL + payload.encode("ascii"), hashlib.sha256).digest())


def _open(cookie: str | None, key: bytes, now: datetime) -> dict[str, Any]:
    if not cookie:
        raise OidcError("This browser holds no sign-in attempt (it may block cookies): "
                        f"{_AGAIN}.")
    parts = cookie.split(".")
    if len(parts) != 3 or parts[0] != _COOKIE_VERSION or not parts[1].isascii() or \
            not hmac.compare_digest(_mac(parts[1], key).encode(), parts[2].encode("utf-8")):
        raise OidcError(f"This browser's sign-in attempt could not be checked: {_AGAIN}.")
    try:
        values = json.loads(_unb64(parts[1]))
        ok = isinstance(values, dict) and all(isinstance(values.get(k), str) and values[k]
                                              for k in ("s", "n", "v")) \
            and isinstance(values.get("e"), int)
    except ValueError:
        ok = False
    if not ok:
        raise OidcError(f"This browser's sign-in attempt could not be checked: {_AGAIN}.")
    if _timestamp(now) >= values["e"]:
        raise OidcError(f"This sign-in attempt took longer than {COOKIE_SECONDS // 60} "
                        f"minutes: {_AGAIN}.")
    return values


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the OIDC cookie key must be {MIN_KEY_BYTES} bytes or more")


# The token endpoint and the ID token


def _exchange(http: httpx.Client, provider: Provider, settings: OidcSettings, *, code: str,
              verifier: str, redirect_uri: str) -> dict[str, Any]:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier}
    headers = {"Accept": "application/json"}
    if provider.token_auth_method == "client_secret_post":
        form |= {"client_id": settings.client_id, "client_secret": settings.client_secret}
    else:
        # RFC 6749 2.3.1: each part form-encoded before they are joined and base64-encoded.
        pair = f"{quote(settings.client_id, safe='')}:{quote(settings.client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    try:
        answer = http.post(provider.token_endpoint, data=form, headers=headers)
    except httpx.HTTPError:
        raise OidcError(f"{_SERVICE_CAP} could not be reached: try again later.") from None
    body = _json(answer)
    if answer.status_code != 200:
        error = body.get("error") if body is not None else None
        raise OidcError(f"{_SERVICE_CAP} did not accept this sign-in "
                        f"({_code(error) if error else f'HTTP {answer.status_code}'}).")
    if body is None or not isinstance(body.get("id_token"), str):
        raise OidcError(f"{_SERVICE_CAP} answered without an ID token.")
    return body


def _verify(http: httpx.Client, provider: Provider, settings: OidcSettings,
            tokens: dict[str, Any], *, nonce: str, now: datetime) -> dict[str, Any]:
    id_token = tokens["id_token"]
    keys = provider.keys(http)
    try:
        try:
            token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        except InvalidKeyIdError:
            # A key we do not hold: the provider has rotated its keys. Fetch them once more.
            keys = provider.keys(http, refresh=True, stale=keys)
            token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
    except InvalidKeyIdError:
        raise OidcError("The ID token is signed with a key the identity provider does not "
                        "publish.") from None
    except UnsupportedAlgorithmError:
        raise OidcError("The ID token is not signed with RS256 or ES256, so it cannot be "
                        "trusted.") from None
    except BadSignatureError:
        raise OidcError("The ID token's signature does not match the identity provider's "
                        "keys.") from None
    except (JoseError, ValueError, TypeError, KeyError):
        raise OidcError("The ID token could not be read.") from None
    access = tokens.get("access_token")
    claims = CodeIDToken(
        token.claims, token.header,
        options={"iss": {"essential": True, "value": settings.issuer},
                 "aud": {"essential": True, "value": settings.client_id}},
        params={"nonce": nonce, "client_id": settings.client_id,
                "access_token": access if isinstance(access, str) else None})
    try:
        claims.validate(now=int(_timestamp(now)), leeway=LEEWAY_SECONDS)
    except ExpiredTokenError:
        raise OidcError("The ID token has expired (check this server's clock).") from None
    except MissingClaimError as exc:
        raise OidcError(f"The ID token lacks the claim {exc.claim}.") from None
    except ClaimError as exc:
        raise OidcError(_CLAIMS.get(exc.claim, f"The ID token's {exc.claim} claim is not "
                                    "valid.")) from None
    except (JoseError, ValueError, TypeError):
        raise OidcError("The ID token's claims could not be checked.") from None
    return dict(token.claims)


_CLAIMS = {
    "iss": "The ID token was issued by another identity provider than the board's.",
    "aud": "The ID token was issued for another application than this portal.",
    "azp": "The ID token was issued for another application than this portal.",
    "nonce": f"The ID token does not belong to this sign-in attempt: {_AGAIN}.",
    "iat": "The ID token was issued in the future (check this server's clock).",
    "nbf": "The ID token is not valid yet (check this server's clock).",
    "sub": "The ID token names no one (it has no subject).",
    "at_hash": "The ID token does not match the access token given with it.",
}


def _address(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or len(value) > 320 or not _ADDRESS.match(value.strip()):
        raise OidcError(f"Your organisation's account gave no e-mail address (the {name} "
                        "claim).")
    if name == "email" and "email_verified" in claims and claims["email_verified"] is not True:
        raise OidcError("Your organisation's account has not verified its e-mail address.")
    return value.strip().lower()


# HTTP and small helpers


def _client(http: httpx.Client | None) -> AbstractContextManager[httpx.Client]:
    """The caller's client (left open), or a new one closed after use."""
    if http is not None:
        return nullcontext(http)
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False)


def _get_json(http: httpx.Client, url: str, what: str) -> dict[str, Any]:
    try:
        answer = http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError:
        raise OidcError(f"{_SERVICE_CAP} could not be reached: try again later.") from None
    body = _json(answer)
    if answer.status_code != 200 or body is None:
        raise OidcError(f"{_SERVICE_CAP} did not give {what} (HTTP {answer.status_code}).")
    return body


def _json(answer: httpx.Response) -> dict[str, Any] | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _code(value: object) -> str:
    """An OAuth error code as the provider gave it, when it looks like one."""
    return value if isinstance(value, str) and _CODE.match(value) else "an unknown error"


def _require_secure(url: str, issuer: str) -> None:
    """HTTPS, or plain HTTP to this machine's loopback (a provider for tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and _loopback(parts.hostname) and \
            _loopback(urlsplit(issuer).hostname):
        return
    raise OidcError(f"The identity provider's address {url[:200]} is not an https:// "
                    "address.")


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _timestamp(now: datetime) -> float:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return now.timestamp()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


__all__ = ["ALGORITHMS", "COOKIE_SECONDS", "LEEWAY_SECONDS", "OidcError", "OidcSettings",
           "Provider", "Started", "discover", "finish", "start"]
