"""A case's history: one row per trigger fired, in order, chained by hashes (storage.chain).

The database refuses UPDATE and DELETE on the table (migration 0002). `chain` makes the next
row of a case and moves the case's head to it, before the case row is saved; `append`
writes the row in the trigger's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from storage import chain as chains
from storage.db import Tx
from storage.prepared import inserting
from storage.tables import CASES, HISTORY, CaseRecord

_H = HISTORY
_APPEND = inserting(_H)
_OF_CASE = select(_H).where(_H.c.case_id == bindparam("case_id")).order_by(_H.c.seq)
_BEFORE = select(_H).where(_H.c.at < bindparam("end", _H.c.at.type)).order_by(
    _H.c.case_id, _H.c.seq)
_ENDED = select(_H.c.trigger, _H.c.params).where(
    _H.c.case_id == bindparam("case_id"),
    _H.c.trigger.in_(bindparam("triggers", expanding=True)),
    _H.c.at >= bindparam("since", _H.c.at.type))
_HEADS = select(CASES.c.id, CASES.c.ref, CASES.c.history_head).order_by(CASES.c.ref)


def chain(case: CaseRecord, *, seq: int, trigger: str, source: str | None, actor: str,
          reason: str | None, params: Mapping[str, Any], at: datetime,
          due_at: datetime | None) -> dict[str, Any]:
    """The history row `seq` of `case`, leading to its state as it is now, chained to the
    case's previous row; the case's head moves to it (the caller saves the case)."""
    prev = chains.GENESIS if seq == 1 else (case.history_head or chains.GENESIS)
    digest = chains.row_hash(case_ref=case.ref, seq=seq, trigger=trigger, source=source,
                             dest=case.state, actor=actor, reason=reason, params=params,
                             at=at, due_at=due_at, prev_hash=prev)
    case.history_head = digest
    return {"case_id": case.id, "seq": seq, "trigger": trigger, "source": source,
            "dest": case.state, "actor": actor, "reason": reason, "params": dict(params),
            "at": at, "due_at": due_at, "prev_hash": prev, "hash": digest}


def append(tx: Tx, case_id: int, row: Mapping[str, Any]) -> None:
    """Write a row that `chain` made."""
    _APPEND.run(tx, {**row, "case_id": case_id})


def of_case(tx: Tx, case_id: int) -> Sequence[Any]:
    """The case's history, oldest first (by seq); rows have the table's columns."""
    return tx.execute(_OF_CASE, {"case_id": case_id}).all()


def before(tx: Tx, end: datetime) -> Sequence[Any]:
    """Every case's rows before `end`, by case then seq."""
    return tx.execute(_BEFORE, {"end": end}).all()


def ended(tx: Tx, case_id: int, triggers: Iterable[str], since: datetime) -> Sequence[Any]:
    """(trigger, params) of the case's rows of `triggers` at or after `since`."""
    return tx.execute(_ENDED, {"case_id": case_id, "triggers": list(triggers),
                               "since": since}).all()


def verify(tx: Tx) -> tuple[int, int, chains.Break | None]:
    """Walk every case's chain: (cases, rows, the first break or None), cases by reference."""
    rows_seen = 0
    heads = tx.execute(_HEADS).all()
    for case in heads:
        rows = of_case(tx, case.id)
        rows_seen += len(rows)
        found = chains.verify_case(case.ref, case.history_head, rows)
        if found is not None:
            return len(heads), rows_seen, found
    return len(heads), rows_seen, None
