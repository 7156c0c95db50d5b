"""The case row as the engine reads and writes it: a plain record, loaded and saved with
one prepared statement each (storage.direct).

`CaseRow` has the columns of the cases table under the same names, so code that only
reads a case (the snapshot, the e-mail, the command line's output) takes either. `save`
writes every column and raises the version by one, on the condition that nobody else
raised it first: the same optimistic check as the ORM's `version_id_col`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import bindparam, select, update

from states.errors import NotFound
from storage.direct import Prepared, forget
from storage.tables import CASES

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    from storage.models import Case


@dataclass
class CaseRow:
    id: int
    ref: str
    pseudonym: str
    state: str
    kind: str | None
    version: int
    definition_version: str
    flags: list[str]
    round: int
    referred_at: datetime
    state_entered_at: datetime
    updated_at: datetime
    returns_due_at: datetime | None
    meeting_date: date | None
    recommendation: str | None
    methodology: str | None
    lead_reviewer: str | None
    commissioned_at: datetime | None
    decided_at: datetime | None
    report_title: str | None
    completed_at: datetime | None
    notice_sent_at: datetime | None
    scheduled_publication: date | None
    published_at: datetime | None
    panel_notified_on: date | None
    closed_at: datetime | None
    history_head: str | None


if TYPE_CHECKING:
    # What code that only reads a case takes: the ORM's object or the engine's record.
    AnyCase: TypeAlias = Case | CaseRow

_C = CASES
_NAMES = tuple(f.name for f in fields(CaseRow))
_KEPT = tuple(n for n in _NAMES if n not in ("id", "version"))
assert set(_NAMES) == {c.key for c in _C.columns}, "CaseRow must match the cases table"

_BY_REF = select(*(_C.c[n] for n in _NAMES)).where(_C.c.ref == bindparam("ref"))
_LOAD = Prepared(_BY_REF)
_LOAD_FOR_UPDATE = Prepared(_BY_REF.with_for_update())
_SAVE = Prepared(
    update(_C)
    .where(_C.c.id == bindparam("case_id"), _C.c.version == bindparam("old_version"))
    .values({_C.c[n]: bindparam(f"new_{n}") for n in (*_KEPT, "version")})
)


def load(session: Session | Connection, ref: str, *, for_update: bool = False) -> CaseRow:
    """The case with reference `ref`; NotFound if there is none. `for_update` locks the row
    on PostgreSQL until the transaction ends (SQLite's BEGIN IMMEDIATE already has)."""
    row = (_LOAD_FOR_UPDATE if for_update else _LOAD).one(session, {"ref": ref})
    if row is None:
        raise NotFound(f"unknown case {ref!r}")
    return CaseRow(*row)


def save(session: Session, case: CaseRow) -> None:
    """Write the case and raise its version by one; StaleDataError if its version moved
    since it was read. A copy the session's ORM holds is expired, so it reads the new row."""
    values: dict[str, Any] = {f"new_{n}": getattr(case, n) for n in _KEPT}
    values.update(case_id=case.id, old_version=case.version, new_version=case.version + 1)
    if _SAVE.run(session, values) != 1:
        from sqlalchemy.orm.exc import StaleDataError  # the ORM's own, as its flush raises

        raise StaleDataError(f"case {case.ref} changed since it was read")
    case.version += 1
    from storage.models import Case

    forget(session, Case, case.id)
