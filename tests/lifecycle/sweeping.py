"""Helpers for the sweep tests: run the sweep at a moment, read back timers, history and the
e-mail each firing queued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lifecycle.core.engine import Engine
from lifecycle.runtime.sweep import SweepReport, sweep
from storage import queries
from storage.db import transaction
from storage.models import History, Outbox, Timer
from tests.board import Board


def sweep_at(board: Board, now: datetime, engine: Engine | None = None) -> SweepReport:
    return sweep(board.db, engine or board.engine, now)


def fired_names(report: SweepReport) -> list[str]:
    return [f.timer for f in report.of("fired", "blocked")]


def timers(board: Board, ref: str, status: str | None = None) -> list[Timer]:
    """The case's timers by due moment."""
    with transaction(board.db) as s:
        return list(queries.timers(s, queries.case_by_ref(s, ref).id, status=status))


def by_name(rows: list[Timer]) -> dict[str, Timer]:
    return {t.name: t for t in rows}


def history(board: Board, ref: str) -> list[History]:
    with transaction(board.db) as s:
        return list(queries.history(s, queries.case_by_ref(s, ref).id))


@dataclass(frozen=True)
class Firing:
    row: History
    mail: list[Outbox]

    @property
    def recipients(self) -> set[str]:
        return {m.recipient for m in self.mail if m.template != "calendar_update"}


def firings(board: Board, ref: str, trigger: str = "timer") -> list[Firing]:
    """The case's history rows of `trigger`, each with the e-mail queued with it."""
    with transaction(board.db) as s:
        mail = [o for o in queries.outbox(s) if o.case_ref == ref]
    return [Firing(h, [o for o in mail if o.history_seq == h.seq])
            for h in history(board, ref) if h.trigger == trigger]
