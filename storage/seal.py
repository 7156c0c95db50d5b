"""The seal of a case: one digest over everything stored about it, taken at the end of each
trigger and kept in that trigger's history row, inside the chain (storage.chain).

History says what happened; the seal says what the record was when it last happened. A
change made behind the engine's back (a case moved to another state, a referral fact or an
agency's return rewritten, a timer set to fired so that an escalation never goes out)
leaves the stored record different from the seal of its newest history row, and
`scr audit verify` reports it. To hide it one must rewrite that history row too, which
changes the case's head: a copy of the heads kept off the server (SECURITY.md) shows it.

What is sealed (version 1): the case's own row (all but its id, its version, which is the
number of its history rows and is checked against them, and the head itself); the referral
with its summary, and the summaries it replaced; the proceedings; the agencies' requests
and returns; meetings and attendance; outputs; actions with their evidence; and every timer
still to fire.
E-mail in the outbox is not: it is a copy of what history says, and it changes as it is
delivered.

Two changes that happen outside a trigger by design are read so that they do not count:
the sweep marks a timer `stale` when it finds it due after its case left the stay that
armed it, and such a timer is sealed as still pending. A live timer marked stale is not
(its case is in that stay): that is the tampering it must show.

The field lists are fixed for each version, so that the seals of existing rows still
verify; a column added later joins a new version. Version 2 (migration 0011) seals the
case's own row as a mapping of field to value, and with it the facts document its
definition declares (states/facts.py), whatever facts it holds: a new fact needs no new
version. Version 1 sealed the case's row as a list, six of whose columns migration 0011
moved into the document; a row sealed at version 1 is checked by reading those six from the
document, and a document holding anything else cannot match it. `matches` tries both.

Tables added after version 1 (migration 0010: the learning record a `learning` case opens
with, the audits of a review's learning and the training commissioned from it) are
sealed as sections of their own, present only when the case has rows in them: a record
without any seals as it did before they existed, so its existing seals still verify, and a
row added or removed behind the engine's back changes the seal as any other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, select

from scr.storage.db import Tx
from scr.storage.prepared import Prepared
from scr.storage.tables import (
    ACTIONS,
    AGENCY_REQUESTS,
    AUDITS,
    LEARNING_ITEMS,
    MEETING_ATTENDANCE,
    MEETINGS,
    OUTPUTS,
    PROCEEDINGS,
    REFERRAL_VERSIONS,
    REFERRALS,
    TIMERS,
    TRAININGS,
    CaseRecord,
)

VERSION = 2

CASE_FIELDS = (
    "ref", "pseudonym", "state", "kind", "definition", "definition_version", "flags", "round",
    "referred_at", "state_entered_at", "updated_at", "returns_due_at", "meeting_date",
    "recommendation", "methodology", "lead_reviewer", "commissioned_at", "decided_at",
    "report_title", "completed_at", "notice_sent_at", "scheduled_publication",
    "published_at", "closed_at", "facts",
)
# Version 1: the case's row as a list: version 2's fields up to published_at, the six
# columns migration 0011 moved into the facts document (read from it, with the value the
# column held when it was empty), then closed_at.
V1_MOVED: dict[str, Any] = {
    "panel_notified_on": None, "notified_on": None, "rapid_review_sent_on": None,
    "panel_response": None, "panel_response_on": None, "partner_views": {},
}
V1_CASE_FIELDS = (*CASE_FIELDS[:CASE_FIELDS.index("closed_at")], *V1_MOVED, "closed_at")
_ID: Any = bindparam("case_id")


def _rows(table: Table, fields: Sequence[str], order: Sequence[str]) -> Prepared:
    return Prepared(select(*(table.c[f] for f in fields)).where(table.c.case_id == _ID)
                    .order_by(*(table.c[o] for o in order)))


_REFERRAL_FIELDS = ("incident_date", "harm", "abuse", "agency_concern", "grounds", "route",
                    "referrer_agency", "criminal_proceedings", "aware_on", "looked_after",
                    "summary")
_PROCEEDINGS_FIELDS = ("criminal", "care", "inquest", "expected_conclusion", "recorded_at")
_SINCE_0010_TABLES = (("learning", LEARNING_ITEMS), ("audits", AUDITS),
                      ("trainings", TRAININGS))
# The sections of one row per case, in one statement: the proceedings (every case has
# them), the referral (a learning record has none: its columns come back empty, with its
# case_id), and whether the case has rows in the tables added after version 1. Sealed as
# if each were read on its own.
# Then whether it has rows in each table read after it, so that a table it has none in is
# not read (sealed as the empty section reading it would give: the seal is the same).
_READ_WHERE_PRESENT = (("replaced_summaries", REFERRAL_VERSIONS),
                       ("agencies", AGENCY_REQUESTS), ("outputs", OUTPUTS),
                       ("actions", ACTIONS), ("meetings", MEETINGS))
_HEAD = Prepared(select(
    *(PROCEEDINGS.c[f] for f in _PROCEEDINGS_FIELDS), REFERRALS.c.case_id,
    *(REFERRALS.c[f] for f in _REFERRAL_FIELDS),
    *(select(table.c.case_id).where(table.c.case_id == _ID).exists().label(name)
      for name, table in (*_SINCE_0010_TABLES, *_READ_WHERE_PRESENT)),
).select_from(PROCEEDINGS).outerjoin(REFERRALS, REFERRALS.c.case_id == PROCEEDINGS.c.case_id)
    .where(PROCEEDINGS.c.case_id == _ID))
_P, _R = len(_PROCEEDINGS_FIELDS), len(_REFERRAL_FIELDS)
_TABLES: tuple[tuple[str, Prepared], ...] = (
    ("replaced_summaries", _rows(REFERRAL_VERSIONS, (
        "id", "version", "summary", "replaced_by", "replaced_at"), ("id",))),
    ("agencies", _rows(AGENCY_REQUESTS, (
        "id", "round", "agency", "requested_at", "due_at", "returned_at", "view", "summary",
        "returned_by"), ("id",))),
    ("outputs", _rows(OUTPUTS, ("id", "output", "location", "recorded_at"), ("id",))),
    ("actions", _rows(ACTIONS, (
        "id", "number", "agency", "description", "owner", "due", "status", "evidence",
        "created_at", "completed_at", "signed_off_at", "signed_off_by"), ("id",))),
)
# Sealed only when the case has rows in them (see above).
_SINCE_0010: tuple[tuple[str, Prepared], ...] = (
    ("learning", _rows(LEARNING_ITEMS, (
        "title", "source", "publisher", "published_on", "themes", "link", "relevant",
        "adopted", "considered_on", "considered_by"), ("case_id",))),
    ("audits", _rows(AUDITS, (
        "id", "number", "held_on", "finding", "actions", "note", "recorded_at",
        "recorded_by"), ("id",))),
    ("trainings", _rows(TRAININGS, (
        "id", "number", "course", "audience", "starts_on", "ends_on", "trained", "actions",
        "recorded_at", "recorded_by"), ("id",))),
)
# Meetings with who attended, in one statement: a meeting's row once per agency present
# (once, with no agency, if none was), sealed as the two sections they are.
_M, _MA = MEETINGS, MEETING_ATTENDANCE
_MEETINGS = Prepared(select(_M.c.id, _M.c.held_on, _M.c.recorded_at, _M.c.recorded_by,
                            _MA.c.agency)
                     .outerjoin(_MA, _MA.c.meeting_id == _M.c.id).where(_M.c.case_id == _ID)
                     .order_by(_M.c.id, _MA.c.agency))
_TIMER_FIELDS = ("id", "ladder", "level", "rank", "key", "name", "state", "fires", "due_at",
                 "rule", "status", "armed_at", "fired_at", "sequence")
# Only the timers still to fire are sealed (and those marked stale, read as they would be
# had the sweep not seen them yet): a timer set to fired, disarmed or removed behind the
# engine's back drops out of the seal, one put back grows it. A timer that has gone out is
# on record in history, which says when it fired and when it was due.
_TIMERS = Prepared(select(*(TIMERS.c[f] for f in _TIMER_FIELDS)).where(
    TIMERS.c.case_id == _ID, (TIMERS.c.status == "pending") | (TIMERS.c.status == "stale"),
).order_by(TIMERS.c.id))
_STATUS, _FIRED_AT, _STATE, _ARMED = (_TIMER_FIELDS.index(f) for f in (
    "status", "fired_at", "state", "armed_at"))


def _json_default(value: Any) -> Any:
    """Moments in UTC ISO form (naive ones, as SQLite hands back when read raw, are UTC),
    days in ISO form: what json cannot write itself."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot seal a {type(value).__name__}")


def canonical(body: Any) -> bytes:
    """The one canonical form of what is sealed: sorted-key JSON, moments in UTC ISO form."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_json_default).encode("utf-8")


def _moment(value: Any) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _timer(row: Sequence[Any], case: CaseRecord) -> Sequence[Any]:
    """A timer as sealed: one the sweep may mark stale (armed in another stay than the
    case's present one) is sealed as pending, whichever of the two it is."""
    if row[_STATE] == case.state and _moment(row[_ARMED]) >= _moment(case.state_entered_at):
        return row
    values = list(row)
    values[_STATUS], values[_FIRED_AT] = "pending", None
    return values


def record(tx: Tx, case: CaseRecord, *, version: int = VERSION) -> dict[str, Any]:
    """Everything the seal of `version` covers (rows as the database gives them)."""
    return _body(_rest(tx, case), case, version)


def _body(rest: dict[str, Any], case: CaseRecord, version: int) -> dict[str, Any]:
    if version == VERSION:
        return {"v": VERSION, "case": {f: getattr(case, f) for f in CASE_FIELDS}, **rest}
    if version != 1:
        raise ValueError(f"no seal version {version}")
    stored = case.facts or {}
    body = {"v": 1, "case": [stored.get(f, V1_MOVED[f]) if f in V1_MOVED else getattr(case, f)
                             for f in V1_CASE_FIELDS], **rest}
    beyond = {k: v for k, v in stored.items() if k not in V1_MOVED}
    if beyond:  # version 1 knew no such facts: a record holding them is not the one sealed
        body["facts_beyond_version_1"] = beyond
    return body


def _rest(tx: Tx, case: CaseRecord) -> dict[str, Any]:
    """The sections after the case's own row: the same in every version."""
    ids = {"case_id": case.id}
    head = _HEAD.one(tx, ids)
    sealed: dict[str, Any] = {
        "referral": [head[_P + 1:_P + 1 + _R]] if head and head[_P] is not None else [],
        "proceedings": [head[:_P]] if head else [],
    }
    flags = head[_P + 1 + _R:] if head else (False,) * (len(_SINCE_0010) + len(_READ_WHERE_PRESENT))
    since_0010, present = flags[:len(_SINCE_0010)], dict(
        zip((name for name, _ in _READ_WHERE_PRESENT), flags[len(_SINCE_0010):], strict=True))
    for name, statement in _TABLES:
        sealed[name] = statement.all(tx, ids) if present[name] else []
    meetings = _MEETINGS.all(tx, ids) if present["meetings"] else []
    sealed["meetings"] = list({row[0]: row[:4] for row in meetings}.values())
    sealed["attendance"] = [(row[0], row[4]) for row in meetings if row[4] is not None]
    sealed["timers"] = [_timer(row, case) for row in _TIMERS.all(tx, ids)]
    for (name, statement), has in zip(_SINCE_0010, since_0010, strict=True):
        if has:
            sealed[name] = statement.all(tx, ids)
    return sealed


def digest(tx: Tx, case: CaseRecord) -> str:
    """The seal of `case` as stored now (its own row as given: the engine seals the row it
    is about to save)."""
    return _hash(record(tx, case))


def matches(tx: Tx, case: CaseRecord, sealed: str) -> bool:
    """Whether `case` as stored now is the record `sealed` sealed, at any version."""
    rest = _rest(tx, case)
    return any(_hash(_body(rest, case, v)) == sealed for v in (VERSION, 1))


def _hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(body)).hexdigest()
