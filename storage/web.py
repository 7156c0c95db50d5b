"""The portal's identity records: single-use sign-in links, the requests for them (for the
rate limits) and server-side sessions. Tokens arrive here already hashed: nothing in the
database would sign anyone in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, insert, select, update

from scr.storage.db import Tx
from scr.storage.tables import SIGN_IN_ATTEMPTS, SIGN_IN_LINKS, USERS, WEB_SESSIONS

_L, _A, _S, _U = SIGN_IN_LINKS, SIGN_IN_ATTEMPTS, WEB_SESSIONS, USERS


# ------------------------------------------------------------------------ attempts
def record_attempt(tx: Tx, *, address_hash: str, client_hash: str, at: datetime) -> None:
    tx.execute(insert(_A).values(address_hash=address_hash, client_hash=client_hash, at=at))


def attempts_since(tx: Tx, since: datetime, *, address_hash: str | None = None,
                   client_hash: str | None = None) -> int:
    """How many requests for a link came for the address (or from the client) since."""
    where = [_A.c.at >= since]
    if address_hash is not None:
        where.append(_A.c.address_hash == address_hash)
    if client_hash is not None:
        where.append(_A.c.client_hash == client_hash)
    return int(tx.execute(select(func.count()).select_from(_A).where(*where)).scalar_one())


# --------------------------------------------------------------------------- links
def create_link(tx: Tx, *, token_hash: str, user_id: int, now: datetime,
                expires_at: datetime) -> None:
    tx.execute(insert(_L).values(token_hash=token_hash, user_id=user_id, created_at=now,
                                 expires_at=expires_at, used_at=None))


@dataclass(frozen=True)
class LinkState:
    user_id: int
    user_name: str
    expires_at: datetime
    used_at: datetime | None


def link(tx: Tx, token_hash: str) -> LinkState | None:
    """The link with this token's hash, whatever its state; None when there is none."""
    row = tx.execute(select(_L.c.user_id, _U.c.name, _L.c.expires_at, _L.c.used_at)
                     .join(_U, _U.c.id == _L.c.user_id)
                     .where(_L.c.token_hash == token_hash)).first()
    return LinkState(*row) if row is not None else None


def take_link(tx: Tx, token_hash: str, now: datetime) -> bool:
    """Use the link once: True only for the one request that finds it unused and in date
    (a conditional UPDATE, so two clicks racing cannot both sign in)."""
    done = tx.execute(update(_L).where(and_(
        _L.c.token_hash == token_hash, _L.c.used_at.is_(None), _L.c.expires_at > now,
    )).values(used_at=now))
    return done.rowcount == 1


# ------------------------------------------------------------------------ sessions
@dataclass(frozen=True)
class SessionRecord:
    id: int
    user_id: int
    user_name: str
    csrf_token: str
    method: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    active_user: bool


def start_session(tx: Tx, *, token_hash: str, user_id: int, csrf_token: str, method: str,
                  now: datetime, expires_at: datetime) -> None:
    tx.execute(insert(_S).values(token_hash=token_hash, user_id=user_id, csrf_token=csrf_token,
                                 method=method, created_at=now, last_seen_at=now,
                                 expires_at=expires_at, ended_at=None))


def session(tx: Tx, token_hash: str) -> SessionRecord | None:
    row = tx.execute(select(
        _S.c.id, _S.c.user_id, _U.c.name, _S.c.csrf_token, _S.c.method, _S.c.created_at,
        _S.c.last_seen_at, _S.c.expires_at, _S.c.ended_at, _U.c.active,
    ).join(_U, _U.c.id == _S.c.user_id).where(_S.c.token_hash == token_hash)).first()
    return SessionRecord(*list(row)) if row is not None else None


def touch(tx: Tx, session_id: int, now: datetime) -> None:
    tx.execute(update(_S).where(_S.c.id == session_id).values(last_seen_at=now))


def end_session(tx: Tx, session_id: int, now: datetime) -> None:
    tx.execute(update(_S).where(_S.c.id == session_id, _S.c.ended_at.is_(None))
               .values(ended_at=now))


def end_sessions_of(tx: Tx, user_id: int, now: datetime) -> int:
    """End every live session of the user, and make their unused sign-in links expire:
    how many sessions were ended."""
    tx.execute(update(_L).where(_L.c.user_id == user_id, _L.c.used_at.is_(None),
                                _L.c.expires_at > now).values(expires_at=now))
    done = tx.execute(update(_S).where(_S.c.user_id == user_id, _S.c.ended_at.is_(None))
                      .values(ended_at=now))
    return int(done.rowcount)
