"""Moving running cases to a new version of their process, on the record
(`scr cases migrate`; the mapping is declared beside the new version: states/migration.py).

Each case is judged and moved on its own, in its own transaction: all of it or nothing.

A case may move when it is not in a final state, its state maps to a state of the new
version, its facts document holds only facts the new version declares, each of the type it
declares (states.facts), and its clocks can be planned under the new version. A case that
may not is listed with every reason and left exactly as it was.

Moving it sets its version (and its state, by the mapping), keeps the moment it entered its
state (the stay goes on: only its rules change), disarms every pending timer, and plans
again, under the new version, every ladder that applies in its state, from the dates the
case already has (states.planning.plan on its snapshot, as arming does):

- the ladders the case had pending timers of (each action's, for a per-action ladder);
- the ladders the new version arms on entering the state (by the trigger that entered it,
  where a ladder says `enter_via`) of which the case has had no timer in this stay: a
  ladder new in this version. A ladder that ran its course, or that a trigger ended, stays
  ended.

A ladder keeps the moment it was armed (its earliest pending timer's; now, for a ladder new
in this version): the anchor "armed" plans from it, and the overdue views read the re-planned
timers as the same arming, not a new one. Of each ladder's levels:

- a level due after now is armed;
- a level that has gone out for the case (fired, or skipped under a higher level: in this
  stay, or ever for a clock that runs across states) is not armed again: its row says so,
  and people are not told twice; a recurring level whose chase is running (its next
  occurrence pending) keeps it, the next occurrence planned from the last firing under the
  new version's `<ladder>.<level>.every`, as the sweep plans it, and armed even if past, so
  the daemon says it once;
- of the levels already past that have not gone out, only the ladder's highest is armed,
  and only when it is a deadline (states.process.DEADLINE_LEVELS): it stays pending, due in
  the past, so the daemon's next wake fires it once, as the sweep does after an outage; a
  past reminder, and a past level below the highest, is not armed: nothing is e-mailed for
  it.

A move sends no notice of its own; whoever holds a deadline it adds, moves or withdraws
gets the calendar update (lifecycle/core/invitations.py), as after a trigger. The history
row names the reserved trigger `migrate` with the process and both versions, the state
left and the state entered, and who moved it; it seals the record and is chained as the
engine's rows are (storage.seal, storage.history), so `scr audit verify` stays clean.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scr.lifecycle import log
from scr.lifecycle.core import invitations, notify
from scr.lifecycle.core.arming import TimerChanges
from scr.lifecycle.core.engine import actor_label
from scr.lifecycle.core.process import Process
from scr.lifecycle.settings import Board
from scr.states.case import Actor, CaseSnapshot
from scr.states.errors import LifecycleError
from scr.states.facts import FactError
from scr.states.facts import check as check_facts
from scr.states.migration import MIGRATE_TRIGGER, Migration
from scr.states.planning import PlannedTimer, next_occurrence, plan, recurrence_rule
from scr.states.process import DEADLINE_LEVELS, ENTER, TimerSpec
from scr.storage import cases, history, outbox, seal, timers
from scr.storage.cases import CaseRecord
from scr.storage.db import Tx, conflicts
from scr.storage.timers import FIRED, PENDING, SKIPPED, TimerRecord


@dataclass(frozen=True)
class Move:
    """A case that moves (or would): from its state to the new one, with the timers it will
    have pending, and the levels re-planned but not armed, each with why."""

    ref: str
    pseudonym: str
    source: str
    dest: str
    timers: tuple[TimerRecord, ...]
    left_out: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Stuck:
    """A case that cannot move, with every reason; it is left as it was."""

    ref: str
    pseudonym: str
    state: str
    reasons: tuple[str, ...]


@dataclass
class Migrator:
    """Moves the cases of `old` to `new` by `migration` (both with the board's
    configuration bound)."""

    migration: Migration
    old: Process
    new: Process
    # The board (its name and address, for e-mail): with it, whoever holds a deadline the
    # move adds, moves or withdraws gets the calendar update, as after a trigger.
    board: Board | None = None

    def candidates(self, tx: Tx) -> list[str]:
        """The references of every case of the old version that is not in a final state."""
        old = self.old.definition
        return [row.ref for row in cases.listing(tx)
                if (row.definition, row.definition_version) == old.key
                and row.state not in old.finals]

    def judge(self, tx: Tx, ref: str, *, now: datetime) -> Move | Stuck:
        """What moving case `ref` now would do, read only and locking nothing (a dry run)."""
        case = cases.load(tx, ref)
        return self._judge(tx, case, cases.snapshot(tx, case), now)

    def move(self, tx: Tx, ref: str, *, actor: Actor, now: datetime) -> Move | Stuck:
        """Move case `ref` now in `tx`, its history row naming `actor`; a Stuck case is left
        untouched. The caller commits."""
        case, snapshot = cases.load_with_snapshot(tx, ref)
        found = self._judge(tx, case, snapshot, now)
        if isinstance(found, Move):
            self._write(tx, case, found, dataclasses.replace(snapshot, state=found.dest),
                        actor=actor, now=now)
        return found

    # ---------------------------------------------------------------------- judging
    def _judge(self, tx: Tx, case: CaseRecord, snapshot: CaseSnapshot,
               now: datetime) -> Move | Stuck:
        old, new = self.old.definition, self.new.definition
        if (case.definition, case.definition_version) != old.key:
            return self._stuck(case, f"it runs under {case.definition} version "
                               f"{case.definition_version}, not version {old.version}")
        if case.state in old.finals:
            return self._stuck(case, f"it is finished ({case.state}): a finished case stays "
                               "under the version it finished under")
        reasons = []
        dest = self.migration.state_for(case.state)
        if dest not in new.states:
            reasons.append(f"its state {case.state} has no counterpart in version "
                           f"{new.version}, and the migration maps it to none")
        reasons += fact_problems(self.new, case.facts)
        refusal = self.migration.refuses(snapshot) if self.migration.refuses else None
        if refusal:
            reasons.append(refusal)
        if reasons:
            return self._stuck(case, *reasons)
        after = dataclasses.replace(snapshot, state=dest)
        try:
            armed, left_out = self._replan(tx, case, after, now)
        except (LifecycleError, KeyError, ValueError, TypeError) as exc:
            return self._stuck(case, f"its clocks cannot be planned under version "
                               f"{new.version} ({exc.__class__.__name__}: {exc})")
        return Move(case.ref, case.pseudonym, case.state, dest, tuple(armed), tuple(left_out))

    def _stuck(self, case: CaseRecord, *reasons: str) -> Stuck:
        return Stuck(case.ref, case.pseudonym, case.state, tuple(reasons))

    def _replan(self, tx: Tx, case: CaseRecord, after: CaseSnapshot,
                now: datetime) -> tuple[list[TimerRecord], list[tuple[str, str]]]:
        """The timers the case will have under the new version, and the levels left out."""
        return replan(tx, self.new, case, after, now)

    # ---------------------------------------------------------------------- writing
    def _write(self, tx: Tx, case: CaseRecord, move: Move, after: CaseSnapshot, *,
               actor: Actor, now: datetime) -> None:
        """Carry the move out: the case's row, its timers, the calendar updates of the
        deadlines it moves, its sealed history row."""
        old, new = self.old.definition, self.new.definition
        with conflicts(case.ref):
            seq = case.version + 1  # one version per history row
            case.definition_version = new.version
            case.state = move.dest
            case.updated_at = now
            check_facts(new.facts, case.facts)
            held = timers.pending(tx, case.id)
            timers.disarm(tx, held)
            timers.arm(tx, case.id, move.timers)
            if self.board is not None:
                days = self.new.config.working_days
                changes = invitations.changes_for(
                    new, case, after, TimerChanges(armed=list(move.timers), disarmed=held),
                    meeting=None, cal_start=days.start_of)
                outbox.queue(tx, invitations.queue(
                    new, case, after, changes, people=notify.directory(tx), board=self.board,
                    timezone=days.timezone, now=now, history_seq=seq,
                    actor=actor_label(actor)))
            entry = history.chain(
                case, seq=seq, trigger=MIGRATE_TRIGGER, source=move.source, actor=actor.name,
                reason=None, params={"process": new.name, "from_version": old.version,
                                     "to_version": new.version},
                at=now, due_at=None, record=seal.digest(tx, case),
                recorded_by=actor.recorded_by)
            history.append(tx, case.id, entry)
            cases.save(tx, case)
        log.get(case_ref=case.ref, pseudonym=case.pseudonym, trigger=MIGRATE_TRIGGER,
                actor=actor.name, recorded_by=actor.recorded_by).info(
            "case.migrated", process=new.name, from_version=old.version,
            to_version=new.version, source=move.source, dest=move.dest, seq=seq,
            timers=len(move.timers))


def fact_problems(process: Process, facts: dict[str, Any]) -> list[str]:
    """What in a case's facts document its new version does not hold: a fact it does not
    declare, or a value not of the declared type. Named by the fact, never by its value
    (a fact may be free text)."""
    found = []
    declared = {f.name: f for f in process.definition.facts}
    for name, value in (facts or {}).items():
        fact = declared.get(name)
        if fact is None:
            found.append(f"its fact {name} is not one version {process.version} declares")
        elif (problem := fact.problem(value)) is not None:
            found.append(f"its fact {name} must be {problem} under version {process.version}")
    if not found:
        try:
            check_facts(process.definition.facts, facts or {})
        except FactError:
            found.append(f"its facts are not valid under version {process.version}")
    return found


def replan(tx: Tx, process: Process, case: CaseRecord, after: CaseSnapshot,
           now: datetime) -> tuple[list[TimerRecord], list[tuple[str, str]]]:
    """The timers `case` will have under `process` as `after` shows it, planned again from
    the dates it has (the rules of the module's docstring), and the levels left out with
    why: for a case moved to a new version, and for one whose recorded date was corrected
    (lifecycle/core/correcting.py)."""
    rows = list(timers.of_case(tx, case.id))
    entered_by = _entered_by(history.of_case(tx, case.id), case)
    sequences: dict[str, int] = {}
    for row in rows:
        sequences[row.name] = max(sequences.get(row.name, -1), row.sequence)
    armed: list[TimerRecord] = []
    left_out: list[tuple[str, str]] = []
    for spec in process.definition.timers:
        if after.state not in spec.states:
            continue
        for key in _keys(spec, rows, case, entered_by):
            ladder = Ladder(process, spec, key, case, after, rows, now)
            for record, why in ladder.levels():
                if why is not None:
                    left_out.append((record.name, why))
                    continue
                sequences[record.name] = sequences.get(record.name, -1) + 1
                armed.append(dataclasses.replace(record, sequence=sequences[record.name]))
    return armed, left_out


def _entered_by(rows: Sequence[Any], case: CaseRecord) -> str | None:
    """The trigger that brought the case into its present state (its newest row that moved
    it there, or opened it)."""
    for row in reversed(rows):
        if row.dest == case.state and row.source != row.dest:
            return str(row.trigger)
    return None


def _keys(spec: TimerSpec, rows: Sequence[Any], case: CaseRecord,
          entered_by: str | None) -> list[str]:
    """The keys `spec` is planned again for: those it has pending timers of (each action's,
    for a per-action ladder), or, for a ladder armed on entering the state and never armed
    in this stay, the ladder itself."""
    pending = sorted({r.key for r in rows if r.ladder == spec.ladder and r.status == PENDING})
    if spec.per_action:
        return [k for k in pending if k]
    if "" in pending:
        return [""]
    on_entry = ENTER in spec.arm_on and (not spec.enter_via or entered_by in spec.enter_via)
    in_stay = any(r.ladder == spec.ladder and r.armed_at >= case.state_entered_at
                  for r in rows)
    return [""] if on_entry and not in_stay else []


@dataclass
class Ladder:
    """One ladder (and action key) of the new version, planned again for a moving case."""

    process: Process
    spec: TimerSpec
    key: str
    case: CaseRecord
    after: CaseSnapshot
    rows: Sequence[Any]
    now: datetime

    def levels(self) -> list[tuple[TimerRecord, str | None]]:
        """Each planned level as the timer it would be, with why it is left out (None: it is
        armed)."""
        spec, now = self.spec, self.now
        mine = [r for r in self.rows if r.ladder == spec.ladder and r.key == self.key]
        pending = [r for r in mine if r.status == PENDING]
        # A clock across states says each level once for the case; a ladder of one state,
        # once in this stay.
        scope = mine if spec.also_in else [r for r in mine
                                           if r.armed_at >= self.case.state_entered_at]
        gone = {r.name for r in scope if r.status in (FIRED, SKIPPED)}
        fired = {}
        for r in sorted((r for r in scope if r.status == FIRED), key=lambda r: r.sequence):
            fired[r.name] = r
        armed_at = min((r.armed_at for r in pending), default=now)
        action = self.after.action(int(self.key)) if self.key else None
        planned = plan(self.process.definition.conditions, spec, self.after,
                       armed_at=armed_at, config=self.process.config, action=action)
        past = [p for p in planned if p.due_at <= now]
        top = max(past, key=lambda p: p.rank) if past else None
        found: list[tuple[TimerRecord, str | None]] = []
        for p in planned:
            level = spec.level(p.level)
            record = self._record(p, armed_at)
            if p.name in gone:
                last = fired.get(p.name)
                chasing = any(r.name == p.name for r in pending)
                if level is not None and level.recurring and chasing and last is not None:
                    found.append((self._recurrence(p, last), None))
                else:
                    found.append((record, "it went out already"))
            elif p.due_at > now:
                found.append((record, None))
            elif p is top and p.level in DEADLINE_LEVELS:
                found.append((record, None))  # past and open: the daemon says it once
            elif p is top:
                found.append((record, "a past reminder: not sent"))
            else:
                found.append((record, "past, below a higher level also past: not sent"))
        return found

    def _record(self, p: PlannedTimer, armed_at: datetime) -> TimerRecord:
        state = self.after.state if self.spec.also_in else self.spec.state
        return TimerRecord(name=p.name, ladder=p.ladder, level=p.level, rank=p.rank,
                           key=p.key, status=PENDING, armed_at=armed_at, due_at=p.due_at,
                           sequence=0, state=state, fires=p.fires, rule=p.rule[:300])

    def _recurrence(self, p: PlannedTimer, last: Any) -> TimerRecord:
        """The next occurrence of a recurring level after its last firing, as the sweep
        arms it (storage's row `last`: its due moment and when it fired)."""
        config = self.process.config
        due = next_occurrence(p.ladder, p.level, last.due_at, last.fired_at or last.due_at,
                              config)
        rule = recurrence_rule(p.ladder, p.level, last.due_at, config)[:300]
        return dataclasses.replace(self._record(p, last.fired_at or self.now), due_at=due,
                                   rule=rule)
