"""A small but real OpenID Connect provider for tests: a Starlette app served by uvicorn on a
free loopback port, in a thread of the test process.

It knows one confidential client (its id, secret and redirect URI) and one person, whom it
signs in without a login page: `/authorize` sends the browser straight back to the redirect
URI with a `code` and the `state`. `/token` checks the client (client_secret_post or
client_secret_basic, as advertised), the code (once, for a minute, for that client and
redirect URI) and the PKCE verifier (S256), and answers with an ID token signed RS256 (or
ES256) with keys made at start; `/jwks` publishes them. `Behaviour` is what a test changes to
make the provider misbehave: another issuer, audience or nonce in the token, an expired
token, a token signed with a key it does not publish or with `alg: none`, a refusal."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "scr-portal"
CLIENT_SECRET = "s3cret~with.odd:chars+and/slashes-" + "x" * 16  # form-encoded for Basic
REDIRECT_URI = "http://127.0.0.1:9/sign-in/oidc/callback"  # never fetched: read by hand


@dataclass
class Behaviour:
    """The person signed in, and how the provider (mis)behaves. Reset for every test."""

    email: str = "chair@board.example"
    email_verified: bool | None = True  # None: the claim is left out (as Entra ID does)
    extra_claims: dict[str, Any] = field(default_factory=dict)
    deny: bool = False  # /authorize answers error=access_denied
    issuer: str | None = None  # the token's iss, instead of the provider's
    discovery_issuer: str | None = None  # the discovery document's issuer, instead
    audience: str | list[str] | None = None  # the token's aud, instead of the client id
    nonce: str | None = None  # the token's nonce, instead of the one asked for
    expired: bool = False  # exp an hour ago
    other_key: bool = False  # signed with a key it does not publish, under a published kid
    unknown_kid: bool = False  # signed with a key it does not publish, under its own kid
    alg: str = "RS256"  # RS256, ES256; or "none" (no signature), HS256 (the client secret)


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _rsa(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


class OidcProvider:
    """The provider; `url` (its issuer) once `serve` has started it."""

    def __init__(self, *, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET,
                 redirect_uri: str = REDIRECT_URI) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uri = redirect_uri
        self.url = ""
        self.behaviour = Behaviour()
        self.auth_methods = ["client_secret_post", "client_secret_basic"]
        self.rsa = _rsa("rsa-1")
        self.ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig",
                                                          "alg": "ES256"})
        self.stranger = _rsa("stranger")  # never published
        self.codes: dict[str, _Grant] = {}
        self.jwks_fetches = 0
        self.auth_used: list[str] = []  # how the client authenticated, per token request
        self._lock = threading.Lock()
        self.app = Starlette(routes=[
            Route("/.well-known/openid-configuration", self._configuration),
            Route("/authorize", self._authorize),
            Route("/token", self._token, methods=["POST"]),
            Route("/jwks", self._jwks),
        ])

    def reset(self) -> None:
        self.behaviour = Behaviour()
        self.auth_methods = ["client_secret_post", "client_secret_basic"]
        self.jwks_fetches = 0
        self.auth_used = []

    def rotate(self) -> None:
        """A new RSA signing key, under a new kid; the old one is no longer published."""
        number = int(str(self.rsa.kid).rsplit("-", 1)[1]) + 1
        self.rsa = _rsa(f"rsa-{number}")

    # The endpoints

    async def _configuration(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.behaviour.discovery_issuer or self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "token_endpoint_auth_methods_supported": self.auth_methods,
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
        })

    async def _jwks(self, request: Request) -> Response:
        with self._lock:
            self.jwks_fetches += 1
        keys = [self.rsa.as_dict(private=False), self.ec.as_dict(private=False)]
        return JSONResponse({"keys": keys})

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id or q.get("redirect_uri") != self.redirect_uri:
            # RFC 6749 4.1.2.1: never redirect to an address not registered.
            return PlainTextResponse("unknown client or redirect_uri", status_code=400)
        back: dict[str, str] = {}
        if "state" in q:
            back["state"] = q["state"]
        if self.behaviour.deny:
            return self._back({"error": "access_denied", **back})
        if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split() \
                or q.get("code_challenge_method") != "S256" or not q.get("code_challenge") \
                or not q.get("nonce"):
            return self._back({"error": "invalid_request", **back})
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = _Grant(self.client_id, self.redirect_uri, q["code_challenge"],
                                      q["nonce"], time.time() + 60)
        return self._back({"code": code, **back})

    def _back(self, params: dict[str, str]) -> Response:
        return RedirectResponse(f"{self.redirect_uri}?{urlencode(params)}", status_code=302)

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        given = {k: str(v) for k, v in form.items()}
        client = self._client(request.headers.get("authorization"), given)
        if client is None:
            return _oauth_error("invalid_client", 401)
        if given.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type")
        with self._lock:
            grant = self.codes.pop(given.get("code", ""), None)  # a code works once
        verifier = given.get("code_verifier", "")
        if grant is None or grant.expires < time.time() or grant.client_id != client \
                or grant.redirect_uri != given.get("redirect_uri") \
                or _b64(hashlib.sha256(verifier.encode()).digest()) != grant.challenge:
            return _oauth_error("invalid_grant")
        access = secrets.token_urlsafe(32)
        return JSONResponse({"access_token": access, "token_type": "Bearer",
                             "expires_in": 3600, "id_token": self._id_token(grant, access)},
                            headers={"Cache-Control": "no-store"})

    def _client(self, authorization: str | None, form: dict[str, str]) -> str | None:
        """The client id when the client proved itself, by one advertised method only."""
        if authorization and authorization.startswith("Basic "):
            if "client_secret" in form or "client_secret_basic" not in self.auth_methods:
                return None
            try:
                pair = base64.b64decode(authorization[6:], validate=True).decode()
            except ValueError:
                return None
            name, _, secret = pair.partition(":")
            name, secret = unquote(name), unquote(secret)
            method = "client_secret_basic"
        elif "client_secret" in form and "client_secret_post" in self.auth_methods:
            name, secret = form.get("client_id", ""), form["client_secret"]
            method = "client_secret_post"
        else:
            return None
        if name != self.client_id or not secrets.compare_digest(secret, self.client_secret):
            return None
        self.auth_used.append(method)
        return name

    def _id_token(self, grant: _Grant, access: str) -> str:
        b = self.behaviour
        now = int(time.time()) - (7200 if b.expired else 0)
        claims: dict[str, Any] = {
            "iss": b.issuer or self.url, "aud": b.audience or grant.client_id,
            "sub": "person-1", "nonce": b.nonce or grant.nonce, "iat": now, "nbf": now,
            "exp": now + 3600, "email": b.email, "at_hash": _at_hash(access),
        }
        if b.email_verified is not None:
            claims["email_verified"] = b.email_verified
        claims |= b.extra_claims
        if b.alg == "none":
            header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
            return f"{header}.{_b64(json.dumps(claims).encode())}."
        if b.alg == "HS256":
            key: Any = OctKey.import_key(self.client_secret, parameters={"kid": "rsa-1"})
        elif b.alg == "ES256":
            key = self.ec
        elif b.other_key:
            stolen_kid: dict[str, Any] = {**self.stranger.as_dict(private=True),
                                          "kid": str(self.rsa.kid)}
            key = RSAKey.import_key(stolen_kid)
        elif b.unknown_kid:
            key = self.stranger
        else:
            key = self.rsa
        return jwt.encode({"alg": b.alg, "kid": str(key.kid)}, claims, key, algorithms=[b.alg])


def _at_hash(access: str) -> str:
    return _b64(hashlib.sha256(access.encode()).digest()[:16])


def _oauth_error(code: str, status: int = 400) -> Response:
    return JSONResponse({"error": code}, status_code=status,
                        headers={"Cache-Control": "no-store"})


@contextmanager
def serve(provider: OidcProvider) -> Iterator[OidcProvider]:
    """Run the provider on a free loopback port until the block ends."""
    sock = socket.socket()
    # Accepted connections inherit it: without it (asyncio sets it only on sockets made with
    # proto=IPPROTO_TCP) every answer waits some 40 ms for a delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    provider.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(provider.app, log_level="error", access_log=False,
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the OpenID Connect provider did not start"
        time.sleep(0.01)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
