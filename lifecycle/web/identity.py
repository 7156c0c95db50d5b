"""Who is signed in to the portal, and how they got there: sign-in by e-mail link.

- `request_link`: anyone may ask for a link for an address; the answer is the same whether
  or not the address belongs to a user. For a user's address a single-use link
  (`/sign-in/<token>`, valid for `[web] link_minutes`, 15 by default) goes out through the
  outbox; only the token's SHA-256 is stored, and the message's body is cleared once it is
  sent. Requests are limited per address and per client (ADDRESS_LIMIT, CLIENT_LIMIT in a
  window), counted whether or not the address is known.
- The link's page asks for one click (a POST): a mail scanner that fetches links signs
  nobody in. `complete_sign_in` uses the link once (a conditional UPDATE) and starts a
  server-side session: the cookie carries a random token, the database its hash, with an
  idle timeout and an absolute lifetime.
- Every sign-in, failed sign-in and sign-out is a line in the users' audit trail.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.authentication import BaseUser

from scr.lifecycle import log
from scr.lifecycle.settings import Settings
from scr.states.case import Actor
from scr.states.enums import Role
from scr.storage import outbox, users, web
from scr.storage.db import Database, reading, transaction
from scr.storage.users import UserRecord

SESSION_COOKIE = "scr_session"
WINDOW = timedelta(minutes=15)
ADDRESS_LIMIT = 5  # links asked for one address in WINDOW
CLIENT_LIMIT = 20  # requests from one client in WINDOW
# Hashes for the rate limits are keyed per process: they identify an address or a client
# only to this server while it runs, and are worthless to anyone who copies the table.
_KEY = secrets.token_bytes(32)


def token() -> str:
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    """The SHA-256 a token is stored as."""
    return hashlib.sha256(value.encode()).hexdigest()


def _keyed(value: str) -> str:
    return hmac.new(_KEY, value.strip().lower().encode(), hashlib.sha256).hexdigest()


class TooMany(Exception):
    """Too many requests for a link, for this address or from this client."""


def request_link(db: Database, settings: Settings, *, email: str, client: str,
                 now: datetime, render: Any) -> None:
    """Ask for a sign-in link for `email` from `client`; TooMany past the limits. Sends the
    link only when the address is a user's; the caller answers the same either way.
    `render(url, minutes, board_name) -> (subject, text, html)` words the message."""
    address, who = _keyed(email), _keyed(client)
    with transaction(db) as tx:
        since = now - WINDOW
        if web.attempts_since(tx, since, client_hash=who) >= CLIENT_LIMIT or \
                web.attempts_since(tx, since, address_hash=address) >= ADDRESS_LIMIT:
            raise TooMany()
        web.record_attempt(tx, address_hash=address, client_hash=who, at=now)
        user = users.by_email(tx, email)
        if user is None:
            return
        secret = token()
        minutes = settings.web.link_minutes
        web.create_link(tx, token_hash=digest(secret), user_id=user.id, now=now,
                        expires_at=now + timedelta(minutes=minutes))
        url = f"{settings.web.base_url}/sign-in/{secret}"
        subject, text, html = render(url, minutes, settings.board.name)
        outbox.queue_worded(tx, _sign_in_message(settings, user, subject, text, html, now))
    log.get(user=user.name).info("web.sign_in_link")


def _sign_in_message(settings: Settings, user: UserRecord, subject: str, text: str,
                     html: str, now: datetime) -> dict[str, Any]:
    from scr.handlers.mail import make_message_id

    return {
        "case_id": None, "case_ref": None, "recipient": user.email,
        "recipient_name": user.name, "recipient_role": "", "template": SIGN_IN_TEMPLATE,
        "subject": subject, "body_text": text, "body_html": html, "notice": None,
        "calendar": None, "history_seq": None, "created_at": now, "next_attempt_at": now,
        "message_id": make_message_id(f"sign-in-{secrets.token_hex(8)}",
                                      settings.board.domain),
    }


SIGN_IN_TEMPLATE = outbox.SECRET_TEMPLATES[0]


@dataclass(frozen=True)
class LinkView:
    """What the link's page shows: whom it signs in, or why it will not."""

    ok: bool
    user_name: str | None = None
    problem: str | None = None


def look_at_link(db: Database, secret: str, now: datetime) -> LinkView:
    """The link's state, without using it (GET: a scanner's fetch changes nothing)."""
    with reading(db) as tx:
        found = web.link(tx, digest(secret))
    if found is None:
        return LinkView(False, problem="This sign-in link is not valid.")
    if found.used_at is not None:
        return LinkView(False, problem="This sign-in link has been used already.")
    if found.expires_at <= now:
        return LinkView(False, problem="This sign-in link has expired.")
    return LinkView(True, user_name=found.user_name)


@dataclass(frozen=True)
class Started:
    cookie: str  # the session token for the cookie; only its hash is stored
    user_name: str


def complete_sign_in(db: Database, settings: Settings, secret: str, *, now: datetime,
                     client: str) -> Started | None:
    """Use the link and start a session; None (and a failed sign-in in the audit trail)
    when the link is unknown, used or expired."""
    hashed = digest(secret)
    with transaction(db) as tx:
        found = web.link(tx, hashed)
        if found is None or not web.take_link(tx, hashed, now):
            name = found.user_name if found else "(unknown)"
            users.record(tx, at=now, actor=name, action="sign_in_failed", user_name=name,
                         details={"method": "email", "why": _why(found, now)})
            return None
        cookie = _open_session(tx, settings, found.user_id, found.user_name, "email", now)
    log.get(user=found.user_name).info("web.sign_in")
    return Started(cookie, found.user_name)


def _open_session(tx: Any, settings: Settings, user_id: int, user_name: str, method: str,
                  now: datetime) -> str:
    """A new session for the user, and its line in the audit trail; its cookie's token."""
    cookie = token()
    web.start_session(tx, token_hash=digest(cookie), user_id=user_id, csrf_token=token(),
                      method=method, now=now,
                      expires_at=now + timedelta(hours=settings.web.session_hours))
    users.record(tx, at=now, actor=user_name, action="sign_in", user_name=user_name,
                 details={"method": method})
    return cookie


def sign_in_as(db: Database, settings: Settings, email: str, *, method: str,
               now: datetime) -> Started | None:
    """Start a session for the user with `email`, whose identity another way proved (the
    board's OpenID Connect provider); None, and a failed sign-in on record, when the board
    has no active user with that address."""
    with transaction(db) as tx:
        user = users.by_email(tx, email)
        if user is None:
            users.record(tx, at=now, actor="(unknown)", action="sign_in_failed",
                         user_name="(unknown)",
                         details={"method": method, "why": "no user with that address"})
            return None
        cookie = _open_session(tx, settings, user.id, user.name, method, now)
    log.get(user=user.name).info("web.sign_in", method=method)
    return Started(cookie, user.name)


def failed(db: Database, *, method: str, why: str, now: datetime) -> None:
    """A sign-in that failed before anyone was known (the provider refused, a forged
    answer), on record."""
    with transaction(db) as tx:
        users.record(tx, at=now, actor="(unknown)", action="sign_in_failed",
                     user_name="(unknown)", details={"method": method, "why": why[:200]})


def _why(found: web.LinkState | None, now: datetime) -> str:
    if found is None:
        return "unknown link"
    if found.used_at is not None:
        return "link used already"
    return "link expired" if found.expires_at <= now else "link taken by another request"


@dataclass(frozen=True)
class Visitor(BaseUser):
    """The signed-in person a request acts for: `request.user` on the pages that want one
    (lifecycle/web/auth.py)."""

    session_id: int
    user: UserRecord
    csrf_token: str

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.user.name

    @property
    def identity(self) -> str:
        return self.user.email

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self.user.roles)

    @property
    def actor(self) -> Actor:
        """The person as the engine and the judge take them."""
        return Actor(self.user.name, self.roles, self.user.agency)

    def holds(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def is_business_manager(self) -> bool:
        return Role.BUSINESS_MANAGER in self.roles


# A session's idle clock is written at most this often: most requests only read.
TOUCH_EVERY = timedelta(seconds=60)


def visitor(db: Database, settings: Settings, cookie: str | None,
            now: datetime) -> Visitor | None:
    """The session's person, or None when there is no live session: ended, past its idle
    timeout or its absolute lifetime, or its user made inactive. A live session's idle
    clock restarts (written when a minute or more has passed, so most requests only
    read)."""
    if not cookie:
        return None
    idle = timedelta(minutes=settings.web.session_idle_minutes)
    hashed = digest(cookie)
    with reading(db) as tx:
        found = web.session(tx, hashed)
        user = users.by_id(tx, found.user_id) if found is not None else None
    if found is None or found.ended_at is not None or not found.active_user or user is None:
        return None
    if now >= found.expires_at or now - found.last_seen_at >= idle:
        with transaction(db) as tx:
            web.end_session(tx, found.id, now)
            users.record(tx, at=now, actor="scr", action="session_expired",
                         user_name=found.user_name, details={})
        return None
    if now - found.last_seen_at >= TOUCH_EVERY:
        with transaction(db) as tx:
            web.touch(tx, found.id, now)
    return Visitor(found.id, user, found.csrf_token)


def sign_out(db: Database, who: Visitor, now: datetime) -> None:
    with transaction(db) as tx:
        web.end_session(tx, who.session_id, now)
        users.record(tx, at=now, actor=who.user.name, action="sign_out",
                     user_name=who.user.name, details={})
    log.get(user=who.user.name).info("web.sign_out")


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two form tokens."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
