"""A case's history: one row per trigger fired, in order, chained by hashes (storage.chain).

The database refuses UPDATE and DELETE on the table (migration 0002). `chain` makes the next
row of a case and moves the case's head to it, before the case row is saved; `append`
writes the row in the trigger's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from scr.storage import cases, seal
from scr.storage import chain as chains
from scr.storage.db import Tx
from scr.storage.prepared import inserting
from scr.storage.tables import CASES, HISTORY, CaseRecord

_H = HISTORY
_APPEND = inserting(_H)
_OF_CASE = select(_H).where(_H.c.case_id == bindparam("case_id")).order_by(_H.c.seq)
_BEFORE = select(_H).where(_H.c.at < bindparam("end", _H.c.at.type)).order_by(
    _H.c.case_id, _H.c.seq)
_ENDED = select(_H.c.trigger, _H.c.params).where(
    _H.c.case_id == bindparam("case_id"),
    _H.c.trigger.in_(bindparam("triggers", expanding=True)),
    _H.c.at >= bindparam("since", _H.c.at.type))


def chain(case: CaseRecord, *, seq: int, trigger: str, source: str | None, actor: str,
          reason: str | None, params: Mapping[str, Any], at: datetime,
          due_at: datetime | None, record: str, recorded_by: str | None = None,
          ) -> dict[str, Any]:
    """The history row `seq` of `case`, leading to its state as it is now and sealing its
    record (`record`, storage.seal), chained to the case's previous row; the case's head
    moves to it (the caller saves the case)."""
    prev = chains.GENESIS if seq == 1 else (case.history_head or chains.GENESIS)
    digest = chains.row_hash(case_ref=case.ref, seq=seq, trigger=trigger, source=source,
                             dest=case.state, actor=actor, reason=reason, params=params,
                             at=at, due_at=due_at, prev_hash=prev, record=record,
                             recorded_by=recorded_by)
    case.history_head = digest
    return {"case_id": case.id, "seq": seq, "trigger": trigger, "source": source,
            "dest": case.state, "actor": actor, "reason": reason, "params": dict(params),
            "at": at, "due_at": due_at, "prev_hash": prev, "hash": digest,
            "record_hash": record, "recorded_by": recorded_by}


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


@dataclass
class Audit:
    """What a walk of every chain found: counts, each case's head, and every break."""

    cases: int = 0
    rows: int = 0
    sealed: int = 0  # cases whose newest row seals their record, and the record matches
    unsealed: int = 0  # cases whose history is all from before seals (chain version 1)
    heads: list[tuple[str, int, str]] = field(default_factory=list)  # (ref, seq, head)
    breaks: list[chains.Break] = field(default_factory=list)


def verify(tx: Tx) -> Audit:
    """Walk every case's chain, by reference, and check each case's record against the
    seal of its newest row (storage.seal) and its version against the rows' count."""
    found = Audit()
    for case in cases.every(tx):
        rows = of_case(tx, case.id)
        found.cases += 1
        found.rows += len(rows)
        if rows:
            found.heads.append((case.ref, rows[-1].seq, rows[-1].hash))
        broken = chains.verify_case(case.ref, case.history_head, rows)
        if broken is None and case.version != len(rows):
            broken = chains.Break(case.ref, None, f"the case is at version {case.version} "
                                  f"but has {len(rows)} history rows")
        if broken is None and rows and rows[-1].record_hash is not None:
            if not seal.matches(tx, case, rows[-1].record_hash):
                broken = chains.Break(case.ref, None, "the case's record was changed outside "
                                      "its history (it does not match the seal of its newest "
                                      "row)")
            else:
                found.sealed += 1
        elif broken is None:
            found.unsealed += 1
        if broken is not None:
            found.breaks.append(broken)
    found.heads.sort()
    return found


def hash_at(tx: Tx, ref: str, seq: int) -> str | None:
    """The hash of row `seq` of case `ref`, or None when there is none."""
    return tx.execute(select(_H.c.hash).join(CASES, CASES.c.id == _H.c.case_id)
                      .where(CASES.c.ref == ref, _H.c.seq == seq)).scalar()
