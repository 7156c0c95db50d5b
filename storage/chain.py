"""The tamper-evident history: each row's hash covers its content and the previous row's
hash, case by case; the case row keeps the newest hash, so a removed tail shows too.

The canonical form is fixed (version 1): sorted-key JSON of the row's fields with moments
in UTC ISO form. Changing it would break every existing chain; add a new version instead.
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
) -> str:
    body = {
        "v": 1, "case": case_ref, "seq": seq, "trigger": trigger, "source": source,
        "dest": dest, "actor": actor, "reason": reason, "params": params,
        "at": _moment(at), "due_at": _moment(due_at), "prev": prev_hash,
    }
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
    for expected_seq, row in enumerate(rows, start=1):
        if row.seq != expected_seq:
            return Break(case_ref, expected_seq, f"row missing (found seq {row.seq} instead)")
        if row.prev_hash != prev:
            return Break(case_ref, row.seq, "link to the previous row is broken")
        recomputed = row_hash(
            case_ref=case_ref, seq=row.seq, trigger=row.trigger, source=row.source,
            dest=row.dest, actor=row.actor, reason=row.reason, params=row.params, at=row.at,
            due_at=row.due_at, prev_hash=row.prev_hash,
        )
        if recomputed != row.hash:
            return Break(case_ref, row.seq, "row content does not match its hash (altered)")
        prev = row.hash
    if head != prev:
        return Break(case_ref, None, "the newest history rows are missing (head mismatch)")
    return None
