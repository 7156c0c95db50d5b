"""The timer sweep: fire what is due at `now`, each timer once.

For each due timer, in due order, one transaction:

1. Lock the case. PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED`, so a case another
   daemon (or a person) is changing is left for the next wake instead of waited on; the case
   is locked before any of its timers, the same order a person's trigger takes, so the two
   never deadlock. SQLite: the transaction began with BEGIN IMMEDIATE and holds the writer
   lock already.
2. Re-check that the case is still in the stay that armed the timer (the same state, entered
   no later than the timer was armed); if not, mark the timer `stale` and do nothing else.
3. Claim with a conditional `UPDATE timers SET status=... WHERE id=:id AND status='pending'`
   checked by its row count: whoever changes the row first owns the firing; anyone later
   sees 0 rows and moves on. Of a ladder's levels that are due, only the highest is claimed
   (`fired`); the lower ones are marked `skipped`, so after an outage a ladder speaks once.
4. Fire through the same `Engine.fire` a person uses, as the system actor, with the timer's
   due moment (history records it, so lateness is on record). A recurring level arms its
   next occurrence, after `now`, in the same transaction.

The claim and the firing commit together: a crash leaves the timer pending (it fires on the
next wake) or fired with its history row and e-mail, never one without the other.

Cost follows what is due, not what is stored: due timers are read a batch at a time from the
(status, due_at) index with a keyset cursor, and each firing touches one case's rows only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scr.lifecycle import log
from scr.lifecycle.core.engine import Engine, timer_announcement
from scr.lifecycle.core.process import Process
from scr.states.case import SYSTEM_ACTOR
from scr.states.errors import Refused
from scr.states.planning import next_occurrence, recurrence_rule
from scr.states.process import TIMER_TRIGGER
from scr.storage import cases, timers
from scr.storage.cases import LockedCase
from scr.storage.db import Database, Tx, is_sqlite, reading, transaction
from scr.storage.timers import FIRED, PENDING, SKIPPED, STALE, TimerRecord

BATCH = 200


@dataclass(frozen=True)
class TimerOutcome:
    """What became of one timer: fired, blocked (a timed transition refused and escalated),
    stale or skipped."""

    case_ref: str
    timer: str
    outcome: str
    trigger: str | None
    due_at: datetime
    late_s: float
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"case_ref": self.case_ref, "timer": self.timer, "outcome": self.outcome,
                "trigger": self.trigger, "due_at": self.due_at.isoformat(),
                "late_s": round(self.late_s, 3), "reasons": list(self.reasons)}


@dataclass
class SweepReport:
    now: datetime
    firings: list[TimerOutcome] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    busy: int = 0  # due timers of cases locked by someone else: left for the next wake

    def of(self, *outcomes: str) -> list[TimerOutcome]:
        return [f for f in self.firings if f.outcome in outcomes]

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "fired": [f.as_dict() for f in self.of("fired", "blocked")],
            "skipped": [f.as_dict() for f in self.of("skipped")],
            "stale": [f.as_dict() for f in self.of("stale")],
            "errors": list(self.errors),
            "busy": self.busy,
        }


def sweep(db: Database, engine: Engine, now: datetime, *,
          stop: Callable[[], bool] = lambda: False, batch: int = BATCH) -> SweepReport:
    """Fire every timer due at `now`, oldest first; `stop()` is asked between timers.

    Errors are reported and logged, never raised: one timer that cannot fire does not keep
    the others from firing, and it stays pending for the next wake.
    """
    report = SweepReport(now)
    cursor: tuple[datetime, int] | None = None
    turn = _Turns(is_sqlite(db))
    # A case whose timer was left pending in this pass (the case locked by someone else, or
    # the firing failed) has none of its later timers fired in it either: a case's timers
    # fire in due order, and the one left comes first on the next wake.
    held: set[int] = set()
    while not stop():
        candidates = _due(db, now, cursor, batch)
        for timer_id, case_id, due_at in candidates:
            if stop():
                return report
            cursor = (due_at, timer_id)
            if case_id in held:
                report.busy += 1
                continue
            if not _one(db, engine, timer_id, case_id, now, report):
                held.add(case_id)
            turn.take()
        # A firing may arm timers already due (a clock that runs across states, armed again
        # in the state a timed transition entered): they lie after the cursor, and the next
        # read finds them, so they fire on this wake rather than the next.
        if not candidates:
            break
    return report


class _Turns:
    """On SQLite, a long sweep steps aside now and then for other writers.

    Every transaction here begins IMMEDIATE (the writer lock), and SQLite's busy handler
    polls at most every 100 ms: a sweep firing timer after timer would starve a person's
    command for the whole of a long catch-up. After each half second of firing, the sweep
    pauses a little longer than that poll, so anyone waiting gets in. A normal wake fires
    a handful of timers and never pauses; PostgreSQL locks rows, not the database.
    """

    SLICE, PAUSE = 0.5, 0.12

    def __init__(self, active: bool) -> None:
        self.active = active
        self.since = time.monotonic()

    def take(self) -> None:
        if self.active and time.monotonic() - self.since > self.SLICE:
            time.sleep(self.PAUSE)
            self.since = time.monotonic()


def next_due(db: Database) -> datetime | None:
    """The earliest due moment of any pending timer."""
    with reading(db) as tx:
        return timers.next_due(tx)


def _due(db: Database, now: datetime, cursor: tuple[datetime, int] | None,
         batch: int) -> list[tuple[int, int, datetime]]:
    """The next `batch` due pending timers after `cursor`, by (due_at, id), without locks."""
    with reading(db) as tx:
        return timers.due(tx, now, cursor, batch)


def _one(db: Database, engine: Engine, timer_id: int, case_id: int, now: datetime,
         report: SweepReport) -> bool:
    """Claim and fire one due timer (and its ladder) in one transaction; log after commit.
    False if it was left pending: the case was locked, or the firing failed."""
    done: list[TimerOutcome] = []
    ref = pseudonym = None
    try:
        with transaction(db) as tx:
            case = cases.lock(tx, case_id)
            if case is None:
                report.busy += 1
                return False
            ref, pseudonym = case.ref, case.pseudonym
            done = _claim_and_fire(tx, engine, case, timer_id, now)
    except Refused as exc:
        _error(report, timer_id, ref, pseudonym, "timer.refused", "; ".join(exc.reasons))
        return False
    except Exception as exc:  # one timer's failure must not stop the sweep
        _error(report, timer_id, ref, pseudonym, "timer.error", exc.__class__.__name__)
        return False
    for firing in done:
        report.firings.append(firing)
        _log(firing, pseudonym)
    return True


def _claim_and_fire(tx: Tx, engine: Engine, case: LockedCase, timer_id: int,
                    now: datetime) -> list[TimerOutcome]:
    pending = timers.pending(tx, case.id)
    timer = next((t for t in pending if t.id == timer_id), None)
    if timer is None:
        return []  # fired, disarmed or skipped since it was read: nothing to do
    if timer.state != case.state or timer.armed_at < case.state_entered_at:
        claimed = timers.claim(tx, timer, STALE, now)
        return [_firing(case, timer, STALE, None, now)] if claimed else []
    group = [t for t in pending if (t.ladder, t.key) == (timer.ladder, timer.key)]
    top = max((t for t in group if t.due_at <= now), key=lambda t: (t.rank, t.due_at))
    if not timers.claim(tx, top, FIRED, now):
        return []
    done = [_firing(case, t, SKIPPED, None, now) for t in group
            if t.rank < top.rank and timers.claim(tx, t, SKIPPED, now)]
    process = engine.processes.of(case)
    _arm_next(tx, process, top, now)
    done.append(_fire(tx, engine, process, case, top, now))
    return done


def _arm_next(tx: Tx, process: Process, timer: TimerRecord, now: datetime) -> None:
    """A recurring level arms its next occurrence, the first one after `now`."""
    spec = process.definition.timer(timer.ladder)
    level = spec.level(timer.level) if spec else None
    if level is None or not level.recurring or timer.case_id is None:
        return
    config = process.config
    latest = timers.latest_sequence(tx, timer.case_id, timer.name)
    timers.arm(tx, timer.case_id, [TimerRecord(
        name=timer.name, ladder=timer.ladder, level=timer.level, rank=timer.rank,
        key=timer.key, status=PENDING, armed_at=now,
        due_at=next_occurrence(timer.ladder, timer.level, timer.due_at, now, config),
        sequence=(latest or 0) + 1, state=timer.state, fires=timer.fires,
        rule=recurrence_rule(timer.ladder, timer.level, timer.due_at, config)[:300],
    )])


def _fire(tx: Tx, engine: Engine, process: Process, case: LockedCase, timer: TimerRecord,
          now: datetime) -> TimerOutcome:
    """Fire the timer's trigger; a refused timed transition announces its refusal level."""
    params: dict[str, Any] = {"timer": timer.ladder, "level": timer.level}
    if timer.key:
        params["key"] = timer.key
    if timer.fires is None:
        engine.fire(tx, case.ref, TIMER_TRIGGER, actor=SYSTEM_ACTOR, params=params,
                    now=now, due_at=became_due(timer))
        return _firing(case, timer, FIRED, TIMER_TRIGGER, now)
    try:
        with tx.begin_nested():
            engine.fire(tx, case.ref, timer.fires, actor=SYSTEM_ACTOR, now=now,
                        due_at=became_due(timer), reason=f"automatic: {timer.rule}")
        return _firing(case, timer, FIRED, timer.fires, now)
    except Refused as exc:
        spec = process.definition.timer(timer.ladder)
        if spec is None or spec.refused is None:
            raise  # nothing to announce: roll back, leave it pending, report the refusal
        announce = timer_announcement(process, timer.ladder, spec.refused.name,
                                      timer.key or None, reasons=exc.reasons)
        engine.fire(tx, case.ref, TIMER_TRIGGER, actor=SYSTEM_ACTOR,
                    params={**params, "level": spec.refused.name}, now=now,
                    due_at=became_due(timer), announce=announce)
        return _firing(case, timer, "blocked", TIMER_TRIGGER, now, exc.reasons)


def became_due(timer: TimerRecord) -> datetime:
    """When a timer could first fire: its due moment, or the moment it was armed if that
    came later (a deadline already past when the case reached the state). Lateness is
    counted from here, so a timer armed overdue is not reported as fired late."""
    return max(timer.due_at, timer.armed_at)


def _firing(case: LockedCase, timer: TimerRecord, outcome: str, trigger: str | None,
            now: datetime, reasons: tuple[str, ...] = ()) -> TimerOutcome:
    due = became_due(timer)
    return TimerOutcome(case.ref, timer.name, outcome, trigger, due,
                  max(0.0, (now - due).total_seconds()), tuple(reasons))


def _log(firing: TimerOutcome, pseudonym: str | None) -> None:
    logger = log.get(case_ref=firing.case_ref, pseudonym=pseudonym, timer=firing.timer)
    if firing.outcome in ("fired", "blocked"):
        logger.info("timer.fired", outcome=firing.outcome, trigger=firing.trigger,
                    due_at=firing.due_at.isoformat(), late_s=round(firing.late_s, 3),
                    reasons=list(firing.reasons) or None)
    else:
        logger.info(f"timer.{firing.outcome}", due_at=firing.due_at.isoformat(),
                    late_s=round(firing.late_s, 3))


def _error(report: SweepReport, timer_id: int, ref: str | None, pseudonym: str | None,
           event: str, detail: str) -> None:
    report.errors.append({"timer_id": timer_id, "case_ref": ref, "event": event,
                          "error": detail})
    log.get(case_ref=ref, pseudonym=pseudonym, timer_id=timer_id).error(event, error=detail)
