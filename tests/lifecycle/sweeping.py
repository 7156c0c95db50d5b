"""Helpers for the sweep tests: run the sweep at a moment, read back timers, history and the
e-mail each firing queued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scr.lifecycle.core.engine import Engine
from scr.lifecycle.runtime.sweep import SweepReport, sweep
from tests import records
from tests.board import Board


def sweep_at(board: Board, now: datetime, engine: Engine | None = None) -> SweepReport:
    return sweep(board.db, engine or board.engine, now)


def fired_names(report: SweepReport) -> list[str]:
    return [f.timer for f in report.of("fired", "blocked")]


def timers(board: Board, ref: str, status: str | None = None) -> list[Any]:
    """The case's timers by due moment."""
    return records.case_timers(board.db, ref, status)


def by_name(rows: list[Any]) -> dict[str, Any]:
    return {t.name: t for t in rows}


def history(board: Board, ref: str) -> list[Any]:
    return records.case_history(board.db, ref)


@dataclass(frozen=True)
class Firing:
    row: Any
    mail: list[records.OutboxRecord]

    @property
    def recipients(self) -> set[str]:
        return {m.recipient for m in self.mail if m.template != "calendar_update"}


def firings(board: Board, ref: str, trigger: str = "timer") -> list[Firing]:
    """The case's history rows of `trigger`, each with the e-mail queued with it."""
    mail = records.mail(board.db, ref)
    return [Firing(h, [o for o in mail if o.history_seq == h.seq])
            for h in history(board, ref) if h.trigger == trigger]
