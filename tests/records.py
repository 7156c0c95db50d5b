"""What the tests read back from a board's database, through storage's own verbs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session

from scr.storage import cases, facts, history, outbox, timers
from scr.storage.db import reading
from scr.storage.outbox import OutboxRecord

__all__ = ["OutboxRecord", "case_history", "case_timers", "counts", "mail", "orm",
           "proceedings", "referral", "timers_by_name"]
from scr.storage.tables import HISTORY, OUTBOX, TIMERS


def counts(db: DbEngine) -> tuple[int, int, int]:
    """How many history rows, timers and outbox messages there are."""
    with reading(db) as tx:
        return tuple(tx.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (HISTORY, TIMERS, OUTBOX))  # type: ignore[return-value]


def case_timers(db: DbEngine, ref: str, status: str | None = None) -> list[Any]:
    """The case's timers by due moment then rank (every column of the table)."""
    with reading(db) as tx:
        rows = timers.of_case(tx, cases.load(tx, ref).id)
    return [t for t in rows if status is None or t.status == status]


def timers_by_name(db: DbEngine, ref: str, status: str | None = None) -> dict[str, Any]:
    return {t.name: t for t in case_timers(db, ref, status)}


def case_history(db: DbEngine, ref: str) -> list[Any]:
    with reading(db) as tx:
        return list(history.of_case(tx, cases.load(tx, ref).id))


def mail(db: DbEngine, ref: str | None = None, *, status: str | None = None
         ) -> list[OutboxRecord]:
    """The outbox, oldest first (of one case when `ref` is given)."""
    with reading(db) as tx:
        rows = outbox.listing(tx, status=status)
    return [o for o in rows if ref is None or o.case_ref == ref]


def referral(db: DbEngine, ref: str) -> Any:
    with reading(db) as tx:
        return facts.referral(tx, cases.load(tx, ref).id)


def proceedings(db: DbEngine, ref: str) -> Any:
    with reading(db) as tx:
        return facts.proceedings(tx, cases.load(tx, ref).id)


@contextmanager
def orm(db: DbEngine) -> Iterator[Session]:
    """An ORM session in one transaction, for tests that put rows in place by hand."""
    with Session(db, expire_on_commit=False) as session, session.begin():
        yield session
