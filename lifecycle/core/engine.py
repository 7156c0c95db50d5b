"""The one verb that changes a case: `Engine.fire` (and `Engine.refer`, which creates one).

Everything that changes a case goes through here: the command line, the shell and the timer
sweep. In one transaction `fire` loads the case and finds the process it runs under (its
definition, machine and configuration: lifecycle/core/process.py), validates the input (bad
input, exit 2), asks the one judge whether the actor may fire the trigger now (refused,
exit 3, with every reason: lifecycle/core/judge.py), moves the case through its machine,
whose callbacks record the trigger's effect and plan its timers, and writes the case, its
history row, its timers and its outbox rows. A case changed underneath is a conflict
(exit 4). The engine decides and records; delivery happens elsewhere, after commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from scr.handlers.notices import template_for
from scr.lifecycle import log
from scr.lifecycle.core import arming, invitations, machine, notify  # noqa: F401 (machine: built at import)
from scr.lifecycle.core import snapshot as snapshots
from scr.lifecycle.core.effects import short_title
from scr.lifecycle.core.firing import Firing, TimerPlan
from scr.lifecycle.core.judge import Judgement, judge, judge_all, role_refusal
from scr.lifecycle.core.process import Process, Processes
from scr.lifecycle.settings import Board
from scr.states.case import SYSTEM_ACTOR, Actor, CaseSnapshot
from scr.states.config import ProcessConfig
from scr.states.enums import USER_ROLES, Proceedings, Role
from scr.states.errors import Conflict, InvalidInput, NotFound, Refused
from scr.states.facts import check as check_facts
from scr.states.facts import recorded
from scr.states.params import PType, clean_text, parse_each
from scr.states.process import TIMER_TRIGGER, TriggerSpec
from scr.states.registry import REGISTRY, Registry
from scr.states.words import level_label
from scr.storage import cases, history, outbox, seal, users
from scr.storage.cases import CaseRecord
from scr.storage.db import Tx, conflicts
from scr.storage.timers import TimerRecord

REASON_MAX = 2000
# The references of the learning register's records (LRN-2026-0001): apart from the board's
# own cases, whose prefix the board sets.
LEARNING_PREFIX = "LRN"

# A timer firing later than this after its due moment tells its recipients how late it is
# (the daemon was down); a running daemon fires within seconds, which is not "late".
LATE_NOTICE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Announcement:
    """How the daemon's timer firings are announced, overriding the trigger's own e-mail."""

    template: str
    label: str
    selectors: tuple[str, ...]
    level: str | None = None
    key: str = ""
    reasons: tuple[str, ...] = ()


def timer_announcement(process: Process, ladder: str, level: str, key: str | None = None,
                       reasons: tuple[str, ...] = ()) -> Announcement:
    """The e-mail of a timer level: its template, label and recipients."""
    spec = process.definition.timer(ladder)
    found = next((lv for lv in spec.announced if lv.name == level), None) if spec else None
    if spec is None or found is None:
        raise InvalidInput(f"unknown timer {ladder}.{level}, or one announced by the "
                           "trigger it fires")
    label = f"{spec.label}: {level_label(level)}" + (f" (action {key})" if key else "")
    return Announcement(f"timer.{ladder}", label, found.notify, level, key or "", reasons)


@dataclass(frozen=True)
class Fired:
    """What a trigger did: the case row as written, and the case as guards and timers saw
    it before and see it after (the after snapshot is derived, not read again: callers use
    it instead of reading the case once more)."""

    case: CaseRecord
    before: CaseSnapshot
    after: CaseSnapshot
    # The case's pending timers after the trigger, as the timer plan left them.
    pending: tuple[TimerRecord, ...] = ()


def parse_input(config: ProcessConfig, spec: TriggerSpec, raw: Mapping[str, Any],
                now: datetime, snapshot: CaseSnapshot | None = None
                ) -> tuple[dict[str, Any], dict[str, str]]:
    """A trigger's input, each parameter on its own (states.params.parse_each), and an
    action it names checked against the case (`snapshot`; None for a new case): the values
    (None where a problem is) and each problem by parameter. The engine refuses on any
    problem; `scr why` and the portal show them all."""
    values, problems = parse_each(spec.params, raw, agencies=config.agencies,
                                  today=config.working_days.local_date(now),
                                  context=spec.name, themes=config.themes)
    for p in spec.params:
        if p.names_action and snapshot is not None and p.name not in problems \
                and values[p.name] is not None and snapshot.action(values[p.name]) is None:
            problems[p.name] = f"{snapshot.ref} has no action {values[p.name]}"
            values[p.name] = None
    return values, problems


@dataclass
class Engine:
    config: ProcessConfig = field(default_factory=ProcessConfig)
    board: Board = field(default_factory=Board)
    # Read each case again after its trigger and compare with the snapshot the engine
    # derived (lifecycle.core.snapshot); a difference is a bug in an effect, raised as an
    # AssertionError. The tests always check; a board may set SCR_CHECK_VIEWS=1 too.
    check_snapshots: bool = False
    registry: Registry = field(default_factory=lambda: REGISTRY)
    # The definitions with their machines and bound configuration (made from `config` and
    # `registry` unless given).
    processes: Processes = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.processes is None:
            self.processes = Processes(self.config, self.registry)
        self._next_steps: dict[tuple[tuple[str, str], str], tuple[tuple[str, str, str], ...]] = {}

    # ----------------------------------------------------------------- creating a case
    def refer(self, tx: Tx, *, actor: Actor, params: Mapping[str, Any],
              now: datetime, process_name: str | None = None) -> CaseRecord:
        """Record a referral: a new case under the process new cases start under (or the
        newest version of `process_name`), in its first state, with its history row, timers
        and e-mail. A process whose records are not referrals (the learning register) opens
        one of its records the same way, with what that process asks for."""
        process = self.processes.starting(process_name)
        definition = process.definition
        spec = definition.create
        values = self._parse(process, spec, params, now)
        _cases_named(tx, spec, values, None)
        name = values["pseudonym"] if definition.referred else short_title(values["title"])
        if not name:
            raise InvalidInput("pseudonym: must not be empty" if definition.referred
                               else "title: must not be empty")
        refusal = role_refusal(spec, actor, None, values)
        if refusal:
            raise Refused(refusal)
        local_year = self.config.working_days.local_date(now).year
        prefix = self.board.ref_prefix if definition.referred else LEARNING_PREFIX
        ref = cases.next_ref(tx, prefix, local_year)
        case = cases.new(ref=ref, pseudonym=name, definition=definition.name,
                         definition_version=definition.version, state=definition.initial,
                         now=now)
        # What the referral says that its definition keeps among its own facts (its
        # creating trigger's `records`, e.g. a care leaver): in the facts document, not the
        # referrals table.
        kept = {name for r in spec.records for name in (r.param, r.key) if name}
        if spec.records:
            case.facts = recorded({}, spec.records, values, at=now, actor=actor)
            check_facts(definition.facts, case.facts)
        # A new case is at version 1: one version per history row.
        if definition.referred:
            referral = {k: v for k, v in values.items() if k != "pseudonym" and k not in kept}
            criminal = Proceedings.PENDING if values["criminal_proceedings"] \
                else Proceedings.NONE
            cases.insert(tx, case, referral=referral, criminal=criminal)
        else:
            cases.insert(tx, case, learning=values)
        snapshot = cases.snapshot(tx, case)
        plan = TimerPlan(enter=process.machine.entering(definition.initial, spec.name))
        self._record(tx, process, case, snapshot, spec, plan, seq=1, source=None, actor=actor,
                     reason=None, values=values, outcome={}, now=now, due_at=None,
                     announce=None)
        cases.set_head(tx, case)
        return case

    # ------------------------------------------------------------------ firing a trigger
    def fire(
        self,
        tx: Tx,
        ref: str,
        trigger: str,
        *,
        actor: Actor,
        params: Mapping[str, Any] | None = None,
        reason: str | None = None,
        now: datetime,
        expect_version: int | None = None,
        due_at: datetime | None = None,
        announce: Announcement | None = None,
    ) -> Fired:
        """Fire `trigger` on case `ref` as `actor` at `now`; returns the updated case, with
        the snapshots before and after.

        Raises NotFound or InvalidInput (exit 2), Refused (exit 3) or Conflict (exit 4);
        on any of them nothing has been written. `due_at` and `announce` are for the timer
        sweep: the moment the firing was due, and the e-mail that announces it.
        """
        case, snapshot = cases.load_with_snapshot(tx, ref)
        process = self.processes.of(case)
        spec = self._spec(process, trigger)
        # A stale version is a conflict before anything is judged: the person acted on a
        # case that has changed, and a refusal judged on the new state would mislead them.
        if expect_version is not None and case.version != expect_version:
            raise Conflict(f"{ref} changed since it was read (version {case.version}, "
                           f"expected {expect_version}); look again and retry",
                           version=case.version)
        if not process.machine.applies(snapshot.state, trigger):
            raise Refused(f"{trigger} does not apply to {ref} in state {snapshot.state}")
        values = self._parse(process, spec, params or {}, now, snapshot)
        _cases_named(tx, spec, values, ref)
        _people_named(tx, spec, values)
        reason = self._reason(reason)
        verdict = judge(process, snapshot, spec, actor=actor, values=values, reason=reason,
                        now=now)
        if verdict.role.ok is False:
            raise Refused(str(verdict.role.reason))
        if not verdict.allowed:
            reasons = verdict.guard_reasons
            about_reason = [g.reason for g in verdict.guards
                            if g.reason and g.judged and g.guard in spec.reason_guards]
            raise Refused(f"{trigger} refused for {ref}: " + "; ".join(reasons), reasons,
                          fields={"reason": about_reason[0]} if about_reason else None)
        if spec.name == TIMER_TRIGGER and announce is None:
            announce = timer_announcement(process, values["timer"], values["level"],
                                          values.get("key"))
        firing = Firing(process.definition, spec, tx, case, snapshot, values, reason, actor,
                        now, process.config, verdict)
        with conflicts(ref):
            # One version per history row (both start at 1): the next row's seq.
            seq = case.version + 1
            new_state = process.machine.run(firing)
            if new_state != snapshot.state:
                case.state = new_state
                case.state_entered_at = now
            case.updated_at = now
            if case.facts is not snapshot.facts:
                check_facts(process.definition.facts, case.facts)
            after = snapshots.after(snapshot, case, firing.changes)
            pending = self._record(
                tx, process, case, after, spec, firing.timers, seq=seq, source=snapshot.state,
                actor=actor, reason=reason, values=values, outcome=firing.outcome, now=now,
                due_at=due_at, announce=announce)
            # The case row is written once, with the head of its history, and its version
            # rises by exactly one.
            cases.save(tx, case)
            if self.check_snapshots:
                snapshots.check(tx, case, after)
        return Fired(case, snapshot, after, tuple(pending))

    # ------------------------------------------------------------------------ reading
    def verdicts(self, tx: Tx, ref: str, *, actor: Actor | None,
                 now: datetime) -> tuple[CaseRecord, Process, list[Judgement]]:
        """The case, its process, and a judgement of each trigger a person may fire from
        its state: allowed now, or why not. Guards that read the trigger's input are not
        judged here (there is no input yet); they appear in `needs`."""
        case = cases.load(tx, ref)
        process = self.processes.of(case)
        return case, process, judge_all(process, cases.snapshot(tx, case), actor=actor,
                                        now=now)

    # ---------------------------------------------------------------------- internals
    def _act(self, process: Process, case: CaseRecord) -> tuple[tuple[str, str, str], ...]:
        """What each role may do next on the case, with its form's address in the portal
        (e-mail offers the links to the recipients of that role)."""
        base = notify.case_link(self.board, case.ref)
        if base is None:
            return ()
        key = (process.definition.key, case.state)
        found = self._next_steps.get(key)
        if found is None:
            steps = []
            for name in process.machine.triggers_from(case.state):
                spec = process.definition.trigger(name)
                if spec is None or spec.system_only:
                    continue
                steps += [(str(r.role), spec.label, spec.name) for r in spec.roles
                          if r.role != Role.SYSTEM]
            found = self._next_steps[key] = tuple(dict.fromkeys(steps))
        return tuple((role, label, f"{base}/{name}") for role, label, name in found)

    @staticmethod
    def _spec(process: Process, trigger: str) -> TriggerSpec:
        spec = process.definition.trigger(trigger)
        if spec is None:
            raise NotFound(f"unknown trigger {trigger!r} (scr triggers REF lists them)")
        if spec is process.definition.create:
            raise InvalidInput(f"{trigger} creates a case: use scr refer")
        return spec

    @staticmethod
    def _parse(process: Process, spec: TriggerSpec, raw: Mapping[str, Any], now: datetime,
               snapshot: CaseSnapshot | None = None) -> dict[str, Any]:
        values, problems = parse_input(process.config, spec, raw, now, snapshot)
        if problems:
            raise InvalidInput(next(iter(problems.values())), fields=problems)
        return values

    @staticmethod
    def _reason(reason: str | None) -> str | None:
        if reason is None:
            return None
        return clean_text(reason, "reason", REASON_MAX, multiline=True) or None

    def _record(
        self,
        tx: Tx,
        process: Process,
        case: CaseRecord,
        snapshot: CaseSnapshot,
        spec: TriggerSpec,
        plan: TimerPlan,
        *,
        seq: int,
        source: str | None,
        actor: Actor,
        reason: str | None,
        values: dict[str, Any],
        outcome: dict[str, Any],
        now: datetime,
        due_at: datetime | None,
        announce: Announcement | None,
    ) -> list[TimerRecord]:
        """Re-arm timers, queue the e-mail and write the history row of one firing. The row
        is written last: it carries the seal of the case's record as the firing leaves it
        (storage.seal), and moves the case's head to it (the caller saves the case). The
        case's pending timers after it."""
        definition = process.definition
        changes = arming.apply(tx, definition, case, snapshot, plan, trigger=spec.name,
                               params=values, outcome=outcome, now=now, config=process.config)
        late = (now - due_at) if due_at is not None and now > due_at else None
        number = outcome.get("action", values.get("action"))
        if announce is not None:
            selectors, template, label = announce.selectors, announce.template, announce.label
            number = int(announce.key) if announce.key else number
        else:
            selectors, template, label = spec.notify, spec.name, spec.label
        if definition.templates:
            template = template_for(definition.templates, template)
        people = notify.directory(tx)
        recipients = notify.resolve(people, selectors, snapshot, values, action_number=number)
        event = notify.Event(
            template=template, label=label, source=source,
            actor=actor_label(actor), reason=reason,
            details=mail_details(process, spec, values, outcome, snapshot),
            level=announce.level if announce else None,
            late_by=late if late is not None and late > LATE_NOTICE_AFTER else None,
            reasons=announce.reasons if announce else (),
        )
        days = process.config.working_days
        mail = notify.queue(case, event, recipients, board=self.board, timezone=days.timezone,
                            state_label=definition.state_label(case.state), now=now,
                            deadline=notify.next_deadline(definition, changes.pending, now),
                            history_seq=seq, act=self._act(process, case),
                            definition=definition)
        meeting = next((values.get(p.name) for p in spec.params if p.invites), None)
        if meeting is not None and meeting < days.local_date(now):
            meeting = None
        mail += invitations.queue(
            definition, case, snapshot,
            invitations.changes_for(definition, case, snapshot, changes,
                                    meeting=meeting,
                                    cal_start=days.start_of),
            people=people, board=self.board, timezone=days.timezone, now=now,
            history_seq=seq, actor=event.actor)
        outbox.queue(tx, mail)
        entry = history.chain(case, seq=seq, trigger=spec.name, source=source,
                              actor=actor.name, reason=reason,
                              params=history_params(spec, values, outcome), at=now,
                              due_at=due_at, record=seal.digest(tx, case),
                              recorded_by=actor.recorded_by)
        history.append(tx, case.id, entry)
        log.get(case_ref=case.ref, pseudonym=case.pseudonym, trigger=spec.name,
                actor=actor.name, recorded_by=actor.recorded_by).info(
            "transition", source=source, dest=case.state, seq=seq,
            late_s=late.total_seconds() if late else None)
        return changes.pending


def _people_named(tx: Tx, spec: TriggerSpec, values: Mapping[str, Any]) -> None:
    """Each parameter named after a role (`lead_reviewer`) names an active user who holds
    that role: a misspelt name would leave the real person neither e-mailed nor able to see
    the case. InvalidInput otherwise, before anything is judged or written."""
    problems = {}
    for param in spec.params:
        named = values.get(param.name)
        if param.type is not PType.TEXT or param.name not in USER_ROLES or not named:
            continue
        try:
            user = users.named(tx, named)
        except NotFound:
            user = None
        if user is None or not user.active or param.name not in user.roles:
            problems[param.name] = (f"{param.name}: no active user called {named!r} holds the "
                                    f"role {param.name} (scr users list)")
    if problems:
        raise InvalidInput(next(iter(problems.values())), fields=problems)


def _cases_named(tx: Tx, spec: TriggerSpec, values: Mapping[str, Any], own: str | None) -> None:
    """Each parameter that names another case (PType.CASE) names one this board has, and
    not the case itself; InvalidInput otherwise (before anything is judged or written)."""
    problems = {}
    for param in spec.params:
        named = values.get(param.name)
        if param.type is not PType.CASE or not named:
            continue
        if named == own:
            problems[param.name] = f"{param.name}: names this case itself"
        elif not cases.exists(tx, named):
            problems[param.name] = f"{param.name}: no case {named} on this board"
    if problems:
        raise InvalidInput(next(iter(problems.values())), fields=problems)


def actor_label(actor: Actor) -> str:
    """Who acted, as e-mail says it: both names for a decision recorded on someone's
    behalf."""
    if actor.is_system:
        return "scr (automatic)"
    if actor.recorded_by:
        return f"{actor.name} (recorded by {actor.recorded_by})"
    return actor.name


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def history_params(spec: TriggerSpec, values: Mapping[str, Any],
                   outcome: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as history keeps them: private free text, and free text its own table
    keeps (Param.in_history), is marked, not copied."""
    kept: dict[str, Any] = {}
    for p in spec.params:
        value = values.get(p.name)
        if p.private or not p.in_history:
            kept[p.name] = "(stored)" if value else None
        elif value is not None:
            kept[p.name] = _plain(value)
    kept.update({k: _plain(v) for k, v in outcome.items()})
    return kept


def mail_details(process: Process, spec: TriggerSpec, values: Mapping[str, Any],
                 outcome: Mapping[str, Any],
                 snapshot: CaseSnapshot) -> tuple[tuple[str, str], ...]:
    """The facts an e-mail may state: the parameters declared mailed (never private ones),
    labelled for people, their values in words (states.words); a timer's firing is named by
    the timer's label."""
    from scr.states import words

    definition = process.definition
    if spec.name == TIMER_TRIGGER:
        ladder, level, key = (values.get(k) for k in ("timer", "level", "key"))
        fired = [("Timer", words.timer_label(definition, str(ladder))) if ladder else None,
                 ("Level", words.level_label(str(level))) if level else None,
                 ("Action", str(key)) if key else None]
        return tuple(pair for pair in fired if pair is not None)
    details: list[tuple[str, str]] = []
    for p in spec.params:
        value = values.get(p.name)
        if p.private or not p.mailed or value is None or value == "" or value == []:
            continue
        details.append((words.param_label(p.name), _display(value, p.type)))
    if "action" in outcome:
        details.append(("Action", str(outcome["action"])))
    if spec.criteria and definition.criteria is not None:
        verdict = definition.assess(snapshot.referred)
        details.append((verdict.label, verdict.summary))
    return tuple(details)


def _display(value: Any, kind: PType | None = None) -> str:
    """A parameter's value for people: a closed list's value or an agency in words, a date
    as "6 February 2025"; text a person typed as they typed it."""
    from scr.states import words

    listed = kind in (PType.CHOICE, PType.CHOICES, PType.AGENCY, PType.AGENCIES)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_display(v, kind) for v in value)
    if isinstance(value, date):
        return words.day_label(value)
    return words.value_label(str(value)) if listed else str(value)


__all__ = ["SYSTEM_ACTOR", "Announcement", "Engine", "history_params", "mail_details",
           "timer_announcement"]
