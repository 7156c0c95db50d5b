"""The tamper-evident history: each row's hash covers its content and the previous row's
hash, case by case; the case row keeps the newest hash, so a removed tail shows too.

The canonical form is sorted-key JSON of the row's fields with moments in UTC ISO form, and
it is fixed per version: changing one would break every existing chain.

- Version 1: the trigger, its states, actor, reason, parameters and moments.
- Version 2 adds the seal of the case's whole record after the trigger (storage.seal) and,
  for a decision recorded on someone's behalf, who recorded it. Rows written before
  version 2 existed keep verifying as version 1; once a case has a version 2 row, every
  later row must be one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def _moment(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive UTC when read raw
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def row_hash(
    *,
    case_ref: str,
    seq: int,
    trigger: str,
    source: str | None,
    dest: str,
    actor: str,
    reason: str | None,
    params: Mapping[str, Any],
    at: datetime,
    due_at: datetime | None,
    prev_hash: str,
    record: str | None = None,
    recorded_by: str | None = None,
) -> str:
    """The row's hash: version 2 when it carries the case's seal (`record`), else 1."""
    body: dict[str, Any] = {
        "v": 1, "case": case_ref, "seq": seq, "trigger": trigger, "source": source,
        "dest": dest, "actor": actor, "reason": reason, "params": params,
        "at": _moment(at), "due_at": _moment(due_at), "prev": prev_hash,
    }
    if record is not None:
        body.update(v=2, record=record, recorded_by=recorded_by)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first broken link of a case's chain."""

    case_ref: str
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.case_ref} seq {self.seq}" if self.seq is not None else self.case_ref
        return f"{where}: {self.problem}"


def verify_case(case_ref: str, head: str | None, rows: Sequence[Any]) -> Break | None:
    """Check one case's rows (ordered by seq); the first problem, or None when intact."""
    prev = GENESIS
    sealed = False
    for expected_seq, row in enumerate(rows, start=1):
        if row.seq != expected_seq:
            return Break(case_ref, expected_seq, f"row missing (found seq {row.seq} instead)")
        if row.prev_hash != prev:
            return Break(case_ref, row.seq, "link to the previous row is broken")
        if sealed and row.record_hash is None:
            return Break(case_ref, row.seq, "row lost the seal its predecessors carry")
        sealed = row.record_hash is not None
        recomputed = row_hash(
            case_ref=case_ref, seq=row.seq, trigger=row.trigger, source=row.source,
            dest=row.dest, actor=row.actor, reason=row.reason, params=row.params, at=row.at,
            due_at=row.due_at, prev_hash=row.prev_hash, record=row.record_hash,
            recorded_by=row.recorded_by,
        )
        if recomputed != row.hash:
            return Break(case_ref, row.seq, "row content does not match its hash (altered)")
        prev = row.hash
    if head != prev:
        return Break(case_ref, None, "the newest history rows are missing (head mismatch)")
    return None
