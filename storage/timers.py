"""Timers are rows, armed and disarmed in the transaction of the trigger that moves the case,
and claimed by the sweep with a conditional UPDATE checked by its row count.

Statuses: pending → fired | skipped (a higher level of its ladder fired) | disarmed (the
case left the stay that armed it, or the ladder was re-armed) | stale (found due after the
case had left its stay). Statements on the hot path are prepared (storage.prepared).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update

from scr.storage.db import Tx
from scr.storage.prepared import Prepared, inserting
from scr.storage.tables import CASES, TIMERS

PENDING, FIRED, SKIPPED, DISARMED, STALE = "pending", "fired", "skipped", "disarmed", "stale"

_T = TIMERS


@dataclass(frozen=True)
class TimerRecord:
    """A timer as the engine, the sweep and the e-mail need it."""

    name: str
    ladder: str
    level: str
    rank: int
    key: str
    status: str
    armed_at: datetime
    due_at: datetime
    sequence: int
    id: int | None = None
    state: str = ""
    fires: str | None = None
    rule: str = ""
    case_id: int | None = None


_FIELDS = ("name", "ladder", "level", "rank", "key", "status", "armed_at", "due_at", "sequence",
           "id", "state", "fires", "rule", "case_id")
_COLUMNS = tuple(_T.c[n] for n in _FIELDS)
_ENTERED: Any = bindparam("entered", _T.c.armed_at.type)
# The timers that matter to a change: those pending, and those that went out (fired, or
# skipped under a higher level) since the case entered its state. A case's older timers
# only count for the calendar sequence of the timer re-armed (`sequences`).
_OF_STAY = Prepared(select(*_COLUMNS).where(
    _T.c.case_id == bindparam("case_id"),
    (_T.c.status == PENDING) | (((_T.c.status == FIRED) | (_T.c.status == SKIPPED))
                                & (_T.c.armed_at >= _ENTERED)),
))
_GONE_OUT = Prepared(select(_T.c.name).distinct().where(
    _T.c.case_id == bindparam("case_id"), _T.c.ladder == bindparam("ladder"),
    (_T.c.status == FIRED) | (_T.c.status == SKIPPED)))
_PENDING = Prepared(select(*_COLUMNS).where(_T.c.case_id == bindparam("case_id"),
                                            _T.c.status == PENDING))
_SEQUENCES = Prepared(select(_T.c.name, func.max(_T.c.sequence)).where(
    _T.c.case_id == bindparam("case_id")).group_by(_T.c.name))
_LATEST = Prepared(select(func.max(_T.c.sequence)).where(
    _T.c.case_id == bindparam("case_id"), _T.c.name == bindparam("name")))
_DISARM = Prepared(update(_T).where(_T.c.id == bindparam("timer_id")).values(
    status=DISARMED))
_CLAIM = Prepared(update(_T).where(_T.c.id == bindparam("timer_id"), _T.c.status == PENDING)
                  .values(status=bindparam("status"), fired_at=bindparam("fired_at")))
_ARM = inserting(_T, fixed={"status": PENDING, "fired_at": None})
_NOW: Any = bindparam("now", _T.c.due_at.type)
_DUE = select(_T.c.id, _T.c.case_id, _T.c.due_at).where(_T.c.status == PENDING,
                                                        _T.c.due_at <= _NOW)
_NEXT_DUE = Prepared(select(func.min(_T.c.due_at)).where(_T.c.status == PENDING))
_OF_CASE = select(_T).where(_T.c.case_id == bindparam("case_id")).order_by(_T.c.due_at,
                                                                           _T.c.rank)


def _record(row: Sequence[Any]) -> TimerRecord:
    return TimerRecord(*row)


# ------------------------------------------------------------------ arming (engine)
def of_stay(tx: Tx, case_id: int, entered: datetime) -> list[TimerRecord]:
    """The case's pending timers, and those fired or skipped since `entered`."""
    return [_record(r) for r in _OF_STAY.all(tx, {"case_id": case_id, "entered": entered})]


def gone_out(tx: Tx, case_id: int, ladder: str) -> set[str]:
    """The names of the ladder's timers that ever went out for the case (fired, or skipped
    under a higher level), in whatever state: a ladder that spans states says each once."""
    return {name for (name,) in _GONE_OUT.all(tx, {"case_id": case_id, "ladder": ladder})}


def sequences(tx: Tx, case_id: int) -> dict[str, int]:
    """The highest calendar sequence of each timer name the case ever had."""
    return dict(_SEQUENCES.all(tx, {"case_id": case_id}))


def disarm(tx: Tx, timers: Iterable[TimerRecord]) -> None:
    _DISARM.run_many(tx, [{"timer_id": t.id} for t in timers])


def arm(tx: Tx, case_id: int, timers: Iterable[TimerRecord]) -> None:
    """Write each of `timers` as a pending row of the case."""
    _ARM.run_many(tx, [{
        "case_id": case_id, "ladder": t.ladder, "level": t.level, "rank": t.rank,
        "key": t.key, "name": t.name, "state": t.state, "fires": t.fires,
        "due_at": t.due_at, "rule": t.rule, "armed_at": t.armed_at, "sequence": t.sequence,
    } for t in timers])


# ----------------------------------------------------------------------- the sweep
def due(tx: Tx, now: datetime, after: tuple[datetime, int] | None,
        limit: int) -> list[tuple[int, int, datetime]]:
    """(timer id, case id, due moment) of the next `limit` pending timers due by `now`,
    by (due_at, id), after the keyset cursor `after`; read through the (status, due_at)
    index, so the cost follows what is due, not what is stored. Locks nothing."""
    stmt = _DUE
    if after is not None:
        due_at, timer_id = after
        stmt = stmt.where(_T.c.due_at >= due_at,
                          or_(_T.c.due_at > due_at,
                              and_(_T.c.due_at == due_at, _T.c.id > timer_id)))
    stmt = stmt.order_by(_T.c.due_at, _T.c.id).limit(limit)
    return [(int(i), int(c), d) for i, c, d in tx.execute(stmt, {"now": now})]


def next_due(tx: Tx) -> datetime | None:
    """The earliest due moment of any pending timer (one probe of the status/due index)."""
    row = _NEXT_DUE.one(tx)
    return row[0] if row else None


def pending(tx: Tx, case_id: int) -> list[TimerRecord]:
    """The case's pending timers."""
    return [_record(r) for r in _PENDING.all(tx, {"case_id": case_id})]


def pending_of(tx: Tx, case_ids: Sequence[int]) -> dict[int, list[TimerRecord]]:
    """The pending timers of many cases, by case id, in one statement."""
    found: dict[int, list[TimerRecord]] = {i: [] for i in case_ids}
    if case_ids:
        # By the cases' own timers (the case_id index), the status tested here: asked for
        # in SQL, SQLite's planner takes the (status, due_at) index and walks every pending
        # timer stored (80 ms among 100,000 cases, against well under 1 ms).
        for row in tx.execute(select(*_COLUMNS).where(_T.c.case_id.in_(list(case_ids)))):
            if row.status == PENDING:
                found[row.case_id].append(_record(row))
    return found


def claim(tx: Tx, timer: TimerRecord, status: str, now: datetime) -> bool:
    """Move a pending timer to `status` (fired_at set when FIRED); False if someone else
    moved it first."""
    fired_at = now if status == FIRED else None
    return _CLAIM.run(tx, {"timer_id": timer.id, "status": status, "fired_at": fired_at}) == 1


def latest_sequence(tx: Tx, case_id: int, name: str) -> int | None:
    """The calendar sequence of the most recent timer `name` of the case, or None."""
    row = _LATEST.one(tx, {"case_id": case_id, "name": name})
    return None if row is None or row[0] is None else int(row[0])


# ---------------------------------------------------------------------------- reads
def of_case(tx: Tx, case_id: int) -> Sequence[Any]:
    """Every timer the case had, by due moment then ladder rank (the table's columns)."""
    return tx.execute(_OF_CASE, {"case_id": case_id}).all()


def current(tx: Tx, case: Any) -> list[Any]:
    """Timers armed since the case entered its current state, but not disarmed ones, by
    due moment then rank. `case` is anything with the case's `id` and `state_entered_at`."""
    return [t for t in of_case(tx, case.id)
            if t.armed_at >= case.state_entered_at and t.status != DISARMED]


_C = CASES
_STANDING = select(_T, _C.c.ref, _C.c.pseudonym, _C.c.state.label("case_state"),
                   _C.c.definition, _C.c.definition_version).join(
    _C, _C.c.id == _T.c.case_id).where(
    _T.c.status.in_((PENDING, FIRED)), _T.c.state == _C.c.state,
    _T.c.armed_at >= _C.c.state_entered_at,
    _T.c.level.in_(bindparam("levels", expanding=True)),
    _T.c.due_at <= bindparam("limit", _T.c.due_at.type)).order_by(_T.c.due_at, _T.c.id)
# A recurring level's next occurrence (runtime/sweep.py) is armed by the sweep that fires
# the one before, at the moment it fires it: the same name, armed when a timer of that name
# went out. It keeps the deadline's chase going; it is not a new deadline.
_BEFORE = _T.alias("before")
_RECURRENCE = select(_BEFORE.c.id).where(
    _BEFORE.c.case_id == _T.c.case_id, _BEFORE.c.name == _T.c.name,
    _BEFORE.c.status == FIRED, _BEFORE.c.fired_at == _T.c.armed_at).exists()
_LATER = select(_T.c.id).where(
    _T.c.case_id == bindparam("case_id"), _T.c.ladder == bindparam("ladder"),
    _T.c.key == bindparam("key"), _T.c.armed_at > bindparam("armed_at", _T.c.armed_at.type),
    ~_RECURRENCE,
).limit(1)


def deadlines(tx: Tx, *, levels: Sequence[str], by: datetime) -> Sequence[Any]:
    """Timers at one of `levels`, pending or fired, of their case's current stay in its
    state, due by `by`; oldest due first. Each row has the timer's columns and the case's
    ref, pseudonym, case_state, definition and definition_version."""
    return tx.execute(_STANDING, {"levels": list(levels), "limit": by}).all()


def rearmed_since(tx: Tx, timer: Any) -> bool:
    """Whether the timer's ladder (and key) was armed again after it by a trigger (a
    recurring level's next occurrence is no re-arming: the deadline still stands)."""
    return tx.execute(_LATER, {"case_id": timer.case_id, "ladder": timer.ladder,
                               "key": timer.key, "armed_at": timer.armed_at}).first() \
        is not None


def every(tx: Tx) -> Sequence[Any]:
    """Every timer of every case, by id."""
    return tx.execute(select(_T).order_by(_T.c.id)).all()
