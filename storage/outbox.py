"""The outbox: e-mail queued in the transaction of the trigger that caused it, delivered after
commit, at least once (lifecycle/runtime/delivery.py).

A message is pending until it is sent, or failed (kept, never dropped) once it keeps
failing. Delivery leases a batch (`lease`: its lease and attempt recorded in one short
transaction; on PostgreSQL with FOR UPDATE SKIP LOCKED so several daemons share the work),
stores each body the first time it is rendered (`rendered`), and records what happened
(`settle`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, null, or_, select, update

from scr.states.errors import InvalidInput, NotFound
from scr.storage.db import Tx
from scr.storage.prepared import Prepared, inserting
from scr.storage.tables import OUTBOX

PENDING, SENT, FAILED = "pending", "sent", "failed"
_O = OUTBOX


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    case_id: int | None
    case_ref: str | None
    recipient: str
    recipient_name: str
    recipient_role: str
    template: str
    subject: str
    body_text: str
    body_html: str
    ics: str | None
    message_id: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    claimed_until: datetime | None
    sent_at: datetime | None
    last_error: str | None
    history_seq: int | None
    notice: dict[str, Any] | None
    calendar: dict[str, Any] | None


_FIELDS = tuple(OutboxRecord.__dataclass_fields__)
assert set(_FIELDS) == {c.key for c in _O.columns}, "OutboxRecord must match the outbox table"
_ALL = select(*(_O.c[n] for n in _FIELDS))
# What every message is when queued: pending, not yet tried, rendered or leased.
_QUEUED = {"status": PENDING, "attempts": 0, "body_text": "", "body_html": "", "ics": None,
           "claimed_until": None, "sent_at": None, "last_error": None}
_QUEUE = inserting(_O, fixed=_QUEUED)
# A message already worded when queued (a sign-in link: no case, no notice to render).
_QUEUE_WORDED = inserting(_O, fixed={k: v for k, v in _QUEUED.items()
                                     if k not in ("body_text", "body_html")})
# Messages whose words hold a secret (a sign-in link's token): once sent, their bodies are
# cleared, so the outbox keeps only that the message went, to whom and when.
SECRET_TEMPLATES = ("sign_in",)
CLEARED = "(cleared once sent: it held a single-use sign-in link)"
_NOW: Any = bindparam("now", _O.c.next_attempt_at.type)
_DUE = _ALL.where(_O.c.status == PENDING, _O.c.next_attempt_at <= _NOW,
                  or_(_O.c.claimed_until.is_(None), _O.c.claimed_until <= _NOW)
                  ).order_by(_O.c.id).limit(bindparam("limit"))
_LEASE = Prepared(update(_O).where(_O.c.id == bindparam("outbox_id")).values(
    claimed_until=bindparam("until"), attempts=_O.c.attempts + 1))
_RENDERED = Prepared(update(_O).where(_O.c.id == bindparam("outbox_id")).values(
    subject=bindparam("subject"), body_text=bindparam("text"), body_html=bindparam("html"),
    ics=bindparam("ics")))
_SENT = Prepared(update(_O).where(_O.c.id == bindparam("outbox_id"), _O.c.status == PENDING)
                 .values(status=SENT, sent_at=bindparam("at"), claimed_until=null(),
                         last_error=null()))
_RETRY = Prepared(update(_O).where(_O.c.id == bindparam("outbox_id"), _O.c.status == PENDING)
                  .values(next_attempt_at=bindparam("at"), claimed_until=null(),
                          last_error=bindparam("error")))
_FAIL = Prepared(update(_O).where(_O.c.id == bindparam("outbox_id"), _O.c.status == PENDING)
                 .values(status=FAILED, claimed_until=null(), last_error=bindparam("error")))
_NEXT = Prepared(select(func.min(_O.c.next_attempt_at)).where(
    _O.c.status == PENDING, or_(_O.c.claimed_until.is_(None),
                                _O.c.next_attempt_at > _O.c.claimed_until)))


def _records(rows: Iterable[Sequence[Any]]) -> list[OutboxRecord]:
    return [OutboxRecord(*row) for row in rows]


def queue(tx: Tx, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert queued messages: for each, a value for every column but `id` and those every
    queued message starts with (pending, no attempt, not rendered). Rows that share one
    notice (the same dict: one event, told to several people) have it encoded once."""
    shared: dict[int, Any] = {}
    ready = []
    for row in rows:
        notice = row.get("notice")
        if notice is not None:
            done = shared.get(id(notice))
            if done is None:
                done = shared[id(notice)] = _QUEUE.processed(tx, "notice", notice)
            row = {**row, "notice": done}
        ready.append(row)
    _QUEUE.run_many(tx, ready)


def queue_worded(tx: Tx, row: Mapping[str, Any]) -> None:
    """Insert one message whose subject and bodies are given (no notice to render)."""
    _QUEUE_WORDED.run(tx, row)


def lease(tx: Tx, *, now: datetime, limit: int, until: datetime) -> list[OutboxRecord]:
    """Up to `limit` pending messages due at `now`, oldest first, leased until `until` with
    their attempt counted (the records returned show both)."""
    stmt = _DUE if tx.dialect.name == "sqlite" else _DUE.with_for_update(skip_locked=True)
    found = _records(tx.execute(stmt, {"now": now, "limit": limit}))
    _LEASE.run_many(tx, [{"outbox_id": r.id, "until": until} for r in found])
    return [OutboxRecord(**{**_as_dict(r), "claimed_until": until,
                            "attempts": r.attempts + 1}) for r in found]


def _as_dict(record: OutboxRecord) -> dict[str, Any]:
    return {n: getattr(record, n) for n in _FIELDS}


def rendered(tx: Tx, bodies: Iterable[tuple[int, str, str, str, str | None]]) -> None:
    """Keep each message's rendered (id, subject, text, html, ics), so a retry sends the
    same words."""
    _RENDERED.run_many(tx, [{"outbox_id": i, "subject": s, "text": t, "html": h, "ics": c}
                            for i, s, t, h, c in bodies])


def mark_sent(tx: Tx, outbox_id: int, now: datetime) -> int:
    """Mark one message sent (and clear it if its words hold a secret); 1 if it was still
    pending, 0 if someone settled it first."""
    done = _SENT.run(tx, {"outbox_id": outbox_id, "at": now})
    if done:
        tx.execute(update(_O).where(_O.c.id == outbox_id,
                                    _O.c.template.in_(SECRET_TEMPLATES))
                   .values(body_text=CLEARED, body_html=""))
    return done


def settle(tx: Tx, *, now: datetime, sent: Iterable[int] = (),
           retry: Iterable[tuple[int, datetime, str]] = (),
           failed: Iterable[tuple[int, str]] = ()) -> None:
    """Record what delivery did: sent; due again at a moment, with the error; failed, with
    the error. A message no longer pending (settled by another daemon) is left alone."""
    sent = list(sent)
    _SENT.run_many(tx, [{"outbox_id": i, "at": now} for i in sent])
    if sent:
        tx.execute(update(_O).where(_O.c.id.in_(sent), _O.c.template.in_(SECRET_TEMPLATES))
                   .values(body_text=CLEARED, body_html=""))
    _RETRY.run_many(tx, [{"outbox_id": i, "at": at, "error": e[:500]} for i, at, e in retry])
    _FAIL.run_many(tx, [{"outbox_id": i, "error": e[:500]} for i, e in failed])


def get(tx: Tx, ids: Iterable[int]) -> dict[int, OutboxRecord]:
    """The messages with these ids, by id."""
    wanted = list(ids)
    if not wanted:
        return {}
    return {r.id: r for r in _records(tx.execute(_ALL.where(_O.c.id.in_(wanted))))}


def listing(tx: Tx, *, status: str | None = None) -> list[OutboxRecord]:
    """Every message (or those with `status`), oldest first."""
    stmt = _ALL.order_by(_O.c.id)
    if status is not None:
        stmt = stmt.where(_O.c.status == status)
    return _records(tx.execute(stmt))


def requeue(tx: Tx, outbox_id: int, now: datetime) -> OutboxRecord:
    """Put a failed message back in the queue, due now, with its attempts reset."""
    found = get(tx, [outbox_id]).get(outbox_id)
    if found is None:
        raise NotFound(f"no outbox message {outbox_id}")
    if found.status != FAILED:
        raise InvalidInput(f"outbox message {outbox_id} is {found.status}, not failed")
    tx.execute(update(_O).where(_O.c.id == outbox_id).values(
        status=PENDING, attempts=0, next_attempt_at=now, claimed_until=None, last_error=None))
    return get(tx, [outbox_id])[outbox_id]


def next_attempt(tx: Tx) -> datetime | None:
    """The earliest moment a pending, unleased message may be tried."""
    row = _NEXT.one(tx)
    return row[0] if row else None
