"""The users' audit trail as a chain, like a case's history (storage.chain): each line's hash
covers its content, the seal of every user and role after it, and the previous line's
hash; audit_heads keeps the newest, so a removed tail shows. The table is append-only in
the database (migration 0009).

A user or a role changed behind the trail's back leaves the users as stored different from
the seal of the newest line. Lines written before migration 0009 are not chained (`seq` is
empty): they are read as they are, and none may follow a chained one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from scr.storage.chain import GENESIS, Break
from scr.storage.db import Tx
from scr.storage.seal import canonical
from scr.storage.tables import AUDIT_HEADS, USER_AUDIT, USER_ROLES, USERS

CHAIN = "users"
WHERE = "(users)"  # how a break in this chain is named beside case references
_A, _H = USER_AUDIT, AUDIT_HEADS
_USER_FIELDS = ("id", "name", "email", "agency", "active", "created_at", "login")


def users_seal(tx: Tx) -> str:
    """One digest over every user and every role as stored now."""
    people = [list(row) for row in tx.execute(
        select(*(USERS.c[f] for f in _USER_FIELDS)).order_by(USERS.c.id))]
    roles = [list(r) for r in tx.execute(select(USER_ROLES.c.user_id, USER_ROLES.c.role)
                                         .order_by(USER_ROLES.c.user_id, USER_ROLES.c.role))]
    return _digest({"v": 1, "users": people, "roles": roles})


def _digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(body)).hexdigest()


def line_hash(*, seq: int, at: datetime, actor: str, action: str, user_name: str,
              details: Mapping[str, Any], record: str, prev: str) -> str:
    return _digest({"v": 1, "seq": seq, "at": at, "actor": actor, "action": action,
                    "user": user_name, "details": dict(details), "record": record,
                    "prev": prev})


def head(tx: Tx, *, for_update: bool = False) -> tuple[int, str]:
    """(seq, hash) of the newest line; (0, GENESIS) before the first."""
    stmt = select(_H.c.seq, _H.c.head).where(_H.c.chain == CHAIN)
    row = tx.execute(stmt.with_for_update() if for_update else stmt).first()
    return (int(row.seq), row.head) if row is not None else (0, GENESIS)


def append(tx: Tx, *, at: datetime, actor: str, action: str, user_name: str,
           details: Mapping[str, Any]) -> None:
    """Write a line after the change it records (in the same transaction), sealing the
    users as they now are. The head row is locked first, so lines are numbered in turn."""
    seq, prev = head(tx, for_update=True)
    seq += 1
    record = users_seal(tx)
    digest = line_hash(seq=seq, at=at, actor=actor, action=action, user_name=user_name,
                       details=details, record=record, prev=prev)
    tx.execute(insert(_A).values(at=at, actor=actor, action=action, user_name=user_name,
                                 details=dict(details), seq=seq, record_hash=record,
                                 prev_hash=prev, hash=digest))
    tx.execute(update(_H).where(_H.c.chain == CHAIN).values(seq=seq, head=digest))


def seal_existing(tx: Tx, *, at: datetime, actor: str) -> bool:
    """Seal users added before their trail was chained (migration 0009) with a first line,
    so that a change to them from now on shows; False when the chain has begun already or
    there is nobody to seal."""
    if head(tx)[0] or tx.execute(select(USERS.c.id).limit(1)).first() is None:
        return False
    append(tx, at=at, actor=actor, action="seal", user_name="(everyone)", details={})
    return True


def verify(tx: Tx) -> tuple[int, Break | None]:
    """Walk the chain: (lines verified, the first break or None)."""
    rows: Sequence[Any] = tx.execute(select(_A).order_by(_A.c.id)).all()
    prev, expected, last = GENESIS, 1, None
    for row in rows:
        if row.seq is None:
            if last is not None:
                return expected - 1, Break(WHERE, expected, "a line outside the chain")
            continue
        if row.seq != expected:
            return expected - 1, Break(WHERE, expected,
                                       f"line missing (found seq {row.seq} instead)")
        if row.prev_hash != prev:
            return expected - 1, Break(WHERE, row.seq, "link to the previous line is broken")
        recomputed = line_hash(seq=row.seq, at=row.at, actor=row.actor, action=row.action,
                               user_name=row.user_name, details=row.details,
                               record=row.record_hash, prev=row.prev_hash)
        if recomputed != row.hash:
            return expected - 1, Break(WHERE, row.seq,
                                       "line content does not match its hash (altered)")
        prev, last, expected = row.hash, row, expected + 1
    lines = expected - 1
    if head(tx) != (lines, prev):
        return lines, Break(WHERE, None, "the newest lines are missing (head mismatch)")
    if last is not None and users_seal(tx) != last.record_hash:
        return lines, Break(WHERE, None, "users or roles changed outside the audit trail")
    return lines, None


def line_at(tx: Tx, seq: int) -> str | None:
    """The hash of line `seq`, or None when there is none."""
    return tx.execute(select(_A.c.hash).where(_A.c.seq == seq)).scalar()
