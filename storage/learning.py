"""The learning register and the checks that a review's learning took hold.

A review from elsewhere is a case of the `learning` process (states/learning): its
learning_items row is what it opens with, in place of a referral. Quality assurance
audits and training commissioned in response to learning belong to the case (a board's
own review or a learning record) whose learning they answer: audits and trainings rows.
The writes are what triggers record (lifecycle/core/effects.py calls them, inside the
trigger's transaction); the reads are what `scr learning`, `scr qa` and `scr report` show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select

from scr.states.enums import ActionStatus
from scr.storage.db import Tx
from scr.storage.prepared import Prepared, inserting
from scr.storage.tables import ACTIONS, AUDITS, CASES, LEARNING_ITEMS, TRAININGS

_L, _AU, _TR, _X, _C = LEARNING_ITEMS, AUDITS, TRAININGS, ACTIONS, CASES
_CASE_ID: Any = bindparam("case_id")

_CONSIDERED = Prepared(_L.update().where(_L.c.case_id == _CASE_ID).values(
    relevant=bindparam("set_relevant"), adopted=bindparam("set_adopted"),
    considered_on=bindparam("set_considered_on"), considered_by=bindparam("set_considered_by")))
_AUDIT = inserting(_AU)
_TRAINING = inserting(_TR)
_NEXT_AUDIT = Prepared(select(func.coalesce(func.max(_AU.c.number), 0) + 1).where(
    _AU.c.case_id == _CASE_ID))
_NEXT_TRAINING = Prepared(select(func.coalesce(func.max(_TR.c.number), 0) + 1).where(
    _TR.c.case_id == _CASE_ID))


# --------------------------------------------------------------------------- writes
def consider(tx: Tx, case_id: int, *, relevant: bool, adopted: str | None, on: date,
             by: str) -> None:
    """Record the sub-group's consideration of a review from elsewhere."""
    _CONSIDERED.run(tx, {"case_id": case_id, "set_relevant": relevant,
                         "set_adopted": adopted, "set_considered_on": on,
                         "set_considered_by": by})


# The fields of a review from elsewhere that a correction may change (amend_review).
AMENDABLE = ("title", "source", "publisher", "published_on", "themes", "link")


def amend(tx: Tx, case_id: int, values: Mapping[str, Any]) -> None:
    """Correct the fields of the review given in `values` (AMENDABLE); the rest stay."""
    changed = {k: v for k, v in values.items() if k in AMENDABLE}
    if changed:
        tx.execute(_L.update().where(_L.c.case_id == case_id).values(**changed))


def _next(statement: Prepared, tx: Tx, case_id: int) -> int:
    row = statement.one(tx, {"case_id": case_id})
    assert row is not None
    return int(row[0])


def record_audit(tx: Tx, case_id: int, *, held_on: date, finding: str,
                 actions: Sequence[int], note: str, at: datetime, by: str) -> int:
    """Record an audit of the case's learning; returns its number."""
    number = _next(_NEXT_AUDIT, tx, case_id)
    _AUDIT.run(tx, {"case_id": case_id, "number": number, "held_on": held_on,
                    "finding": finding, "actions": list(actions), "note": note,
                    "recorded_at": at, "recorded_by": by})
    return number


def record_training(tx: Tx, case_id: int, *, course: str, audience: str, starts_on: date,
                    ends_on: date, trained: int, actions: Sequence[int], at: datetime,
                    by: str) -> int:
    """Record training commissioned in response to the case's learning; its number."""
    number = _next(_NEXT_TRAINING, tx, case_id)
    _TRAINING.run(tx, {"case_id": case_id, "number": number, "course": course,
                       "audience": audience, "starts_on": starts_on, "ends_on": ends_on,
                       "trained": trained, "actions": list(actions), "recorded_at": at,
                       "recorded_by": by})
    return number


# ---------------------------------------------------------------------------- reads
def item(tx: Tx, case_id: int) -> Any:
    """The learning record of a `learning` case (None for a referred case)."""
    return tx.execute(select(_L).where(_L.c.case_id == _CASE_ID),
                      {"case_id": case_id}).one_or_none()


def items(tx: Tx) -> dict[int, Any]:
    """Every learning record, by case id."""
    return {row.case_id: row for row in tx.execute(select(_L))}


def register(tx: Tx, *, state: str | None = None, theme: str | None = None,
             source: str | None = None) -> list[Any]:
    """The register: every learning record (in `state`, filed under `theme`, from `source`,
    where given) with its case's ref, state and definition, by reference (read from the
    register's own table, however many cases the board has)."""
    stmt = select(_C.c.ref, _C.c.state, _C.c.definition, _C.c.definition_version, _L).join(
        _C, _C.c.id == _L.c.case_id).order_by(_C.c.ref)
    if state is not None:
        stmt = stmt.where(_C.c.state == state)
    if source is not None:
        stmt = stmt.where(_L.c.source == source)
    rows = tx.execute(stmt).all()
    return [r for r in rows if theme is None or theme in r.themes]


def audits(tx: Tx, case_id: int | None = None) -> Sequence[Any]:
    """The audits of one case (or of every case), by case then number, each with its
    case's `ref`."""
    stmt = select(_C.c.ref, _AU).join(_C, _C.c.id == _AU.c.case_id).order_by(
        _AU.c.case_id, _AU.c.number)
    if case_id is not None:
        stmt = stmt.where(_AU.c.case_id == case_id)
    return tx.execute(stmt).all()


def trainings(tx: Tx, case_id: int | None = None) -> Sequence[Any]:
    """The training recorded for one case (or every case), by case then number, each with
    its case's `ref`."""
    stmt = select(_C.c.ref, _TR).join(_C, _C.c.id == _TR.c.case_id).order_by(
        _TR.c.case_id, _TR.c.number)
    if case_id is not None:
        stmt = stmt.where(_TR.c.case_id == case_id)
    return tx.execute(stmt).all()


def untested(tx: Tx, *, before: datetime | None = None) -> list[tuple[str, str, Any]]:
    """Signed-off actions that no audit has tested: (case ref, pseudonym, action row), by
    reference then number; with `before`, as the record stood then (actions signed off,
    and audits recorded, before it). An audit tests the actions it names, or every action
    of its case when it names none."""
    audits = select(_AU.c.case_id, _AU.c.actions)
    signed = select(_C.c.ref, _C.c.pseudonym, _X).join(_C, _C.c.id == _X.c.case_id).where(
        _X.c.status == ActionStatus.SIGNED_OFF.value)
    if before is not None:
        audits = audits.where(_AU.c.recorded_at < before)
        signed = signed.where(_X.c.signed_off_at < before)
    whole: set[int] = set()  # cases whose learning as a whole was audited
    named: set[tuple[int, int]] = set()  # (case, action) audited by name
    for case_id, numbers in tx.execute(audits):
        if not numbers:
            whole.add(case_id)
        named.update((case_id, int(n)) for n in numbers)
    return [(row.ref, row.pseudonym, row)
            for row in tx.execute(signed.order_by(_C.c.ref, _X.c.number))
            if row.case_id not in whole and (row.case_id, row.number) not in named]
