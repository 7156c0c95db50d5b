"""The one verb that changes a case: `Engine.fire` (and `Engine.refer`, which creates one).

Everything that changes a case goes through here: the command line, the shell and the timer
sweep. In one transaction it loads the case, validates the input (bad input, exit 2), checks
that the trigger applies and the actor holds the role, evaluates every guard (refused,
exit 3, with all the reasons), moves the case through the shared `transitions` machine, and
records the effects, the history row, the timers armed and disarmed and the outbox rows.
A case changed underneath is a conflict (exit 4). The engine decides and records; delivery
happens elsewhere, after commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from lifecycle import log
from lifecycle.core import arming, effects, invitations, machine, notify
from lifecycle.core.snapshot import after as snapshot_after
from lifecycle.core.snapshot import snapshot
from states.case import SYSTEM_ACTOR, Actor, CaseView, GuardContext
from states.config import ProcessConfig
from states.criteria import assess
from states.definition import (
    CREATE_TRIGGER,
    TIMER_TRIGGER,
    TRIGGER_BY_NAME,
    VERSION,
    TriggerSpec,
)
from states.definition import transitions_from as _transitions_from
from states.enums import INITIAL_STATE, Proceedings, Role
from states.errors import Conflict, InvalidInput, NotFound, Refused
from states.guards import GUARDS, INPUT_GUARDS
from states.params import PType, clean_text, parse_params
from states.timers import TIMER_BY_LADDER
from storage import caserow, chain, queries, tables
from storage.caserow import CaseRow
from storage.direct import inserting
from storage.models import Case, ProceedingsStatus, Referral

if TYPE_CHECKING:
    from storage.caserow import AnyCase

REASON_MAX = 2000
# A timer firing later than this after its due moment tells its recipients how late it is
# (the daemon was down); a running daemon fires within seconds, which is not "late".
LATE_NOTICE_AFTER = timedelta(minutes=5)
# Parameters that never leave the database in an e-mail, whatever the trigger.
NOT_MAILED = frozenset({"pseudonym", "incident_date", "summary", "evidence"})


@dataclass(frozen=True)
class Verdict:
    """Whether a trigger may be fired now, and if not, why not."""

    trigger: str
    label: str
    allowed: bool
    reasons: tuple[str, ...]
    needs: tuple[str, ...]  # the input it takes: parameters, and a reason where one is needed
    dest: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger, "allowed": self.allowed, "reasons": list(self.reasons),
            "needs": list(self.needs), "dest": self.dest, "label": self.label,
        }


@dataclass(frozen=True)
class Announcement:
    """How the daemon's timer firings are announced, overriding the trigger's own e-mail."""

    template: str
    label: str
    selectors: tuple[str, ...]
    level: str | None = None
    key: str = ""
    reasons: tuple[str, ...] = ()


def timer_announcement(ladder: str, level: str, key: str | None = None,
                       reasons: tuple[str, ...] = ()) -> Announcement:
    """The e-mail of a timer level: its template, label and recipients (SPEC §4)."""
    spec = TIMER_BY_LADDER.get(ladder)
    found = spec.level(level) if spec else None
    if spec is None or found is None:
        raise InvalidInput(f"unknown timer {ladder}.{level}")
    label = f"{spec.label}: {level}" + (f" (action {key})" if key else "")
    return Announcement(f"timer.{ladder}", label, found.notify, level, key or "", reasons)


@dataclass
class Engine:
    config: ProcessConfig = field(default_factory=ProcessConfig)
    board: notify.Board = field(default_factory=notify.Board)
    # Read each case again after its trigger and compare with the view the engine derived
    # (snapshot.after); a difference is a bug in an effect, raised as an AssertionError.
    # The tests always check; a board may set SCR_CHECK_VIEWS=1 to pay for it too.
    check_views: bool = False

    # ----------------------------------------------------------------- creating a case
    def refer(self, session: Session, *, actor: Actor, params: Mapping[str, Any],
              now: datetime) -> Case:
        """Record a referral: a new case in `referral`, its history row, timers and e-mail."""
        spec = TRIGGER_BY_NAME[CREATE_TRIGGER]
        values = self._parse(spec, params, now)
        if not values["pseudonym"]:
            raise InvalidInput("pseudonym: must not be empty")
        refusal = self._role_refusal(spec, actor, None, values)
        if refusal:
            raise Refused(refusal)
        local_year = self.config.calendar.local_date(now).year
        case = Case(
            ref=queries.next_ref(session, self.board.ref_prefix, local_year),
            pseudonym=values["pseudonym"], state=INITIAL_STATE.value,
            definition_version=VERSION, flags=[], round=1, referred_at=now,
            state_entered_at=now, updated_at=now,
        )
        # The history row's hash is set on the case before its first write, so a new case
        # is at version 1: one version per history row.
        entry = _history_entry(case, 1, spec, None, actor, values, None, now, {}, None)
        session.add(case)
        session.flush()
        assert case.id is not None
        referral_fields = {k: v for k, v in values.items() if k != "pseudonym"}
        session.add(Referral(case_id=case.id, **referral_fields))
        criminal = Proceedings.PENDING if values["criminal_proceedings"] else Proceedings.NONE
        session.add(ProceedingsStatus(case_id=case.id, criminal=criminal, recorded_at=now))
        session.flush()
        view = snapshot(session, case)
        self._record(session, case, view, spec, entry, actor=actor, values=values,
                     outcome={}, announce=None)
        return case

    # ------------------------------------------------------------------ firing a trigger
    def fire(
        self,
        session: Session,
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
    ) -> CaseRow:
        """Fire `trigger` on case `ref` as `actor` at `now`; returns the updated case.

        Raises NotFound or InvalidInput (exit 2), Refused (exit 3) or Conflict (exit 4);
        on any of them nothing has been written. `due_at` and `announce` are for the timer
        sweep: the moment the firing was due, and the e-mail that announces it.
        """
        spec = self._spec(trigger)
        case = caserow.load(session, ref, for_update=True)
        view = snapshot(session, case)
        if view.state not in spec.sources:
            raise Refused(f"{trigger} does not apply to {ref} in state {view.state}")
        values = self._parse(spec, params or {}, now, view)
        reason = self._reason(reason)
        refusal = self._role_refusal(spec, actor, view, values)
        if refusal:
            raise Refused(refusal)
        ctx = GuardContext(values, reason, now, self.config, actor)
        reasons = self.guard_reasons(spec, view, ctx)
        if reasons:
            raise Refused(f"{trigger} refused for {ref}: " + "; ".join(reasons), tuple(reasons))
        if expect_version is not None and case.version != expect_version:
            raise Conflict(f"{ref} changed since it was read (version {case.version}, "
                           f"expected {expect_version}); look again and retry")
        if spec.name == TIMER_TRIGGER.name and announce is None:
            announce = timer_announcement(values["timer"], values["level"], values.get("key"))
        new_state = machine.run(case.definition_version, view.state, trigger, view=view, ctx=ctx)
        if new_state is None:  # unreachable: the guards above held
            raise Refused(f"{trigger} refused for {ref}")
        outcome: dict[str, Any] = {}
        try:
            # One version per history row (both start at 1): the next row's seq.
            seq = case.version + 1
            done = effects.EffectContext(trigger, session, case, view, values, reason, actor,
                                         now, self.config, outcome)
            effects.apply(trigger, done)
            if new_state != view.state:
                case.state = new_state
                case.state_entered_at = now
            case.updated_at = now
            entry = _history_entry(case, seq, spec, view.state, actor, values, reason, now,
                                   outcome, due_at)
            # The case row is written once, and its version rises by exactly one.
            caserow.save(session, case)
            after = snapshot_after(view, case, done.changes)
            if self.check_views:
                self._check_view(session, case, after)
            self._record(session, case, after, spec, entry, actor=actor, values=values,
                         outcome=outcome, announce=announce)
        except (StaleDataError, IntegrityError):
            raise Conflict(f"{ref} was changed by someone else at the same time; "
                           "look again and retry") from None
        return case

    @staticmethod
    def _check_view(session: Session, case: CaseRow, derived: CaseView) -> None:
        stored = snapshot(session, case)
        if stored != derived:
            differ = [f.name for f in fields(CaseView)
                      if getattr(stored, f.name) != getattr(derived, f.name)]
            raise AssertionError(f"{case.ref}: the view after the trigger differs from the "
                                 f"stored case in {', '.join(differ)}")

    # ------------------------------------------------------------------------ reading
    def verdicts(self, session: Session, ref: str, *, actor: Actor | None,
                 now: datetime) -> list[Verdict]:
        """Each trigger a person may fire from the case's state: allowed now, or why not.

        Guards that read the trigger's input are not judged here (there is no input yet);
        they appear in `needs`.
        """
        case = queries.case_by_ref(session, ref)
        view = snapshot(session, case)
        ctx = GuardContext({}, None, now, self.config, actor or SYSTEM_ACTOR)
        result = []
        for spec in _transitions_from(view.state):
            if all(r.role == Role.SYSTEM for r in spec.roles):
                continue
            reasons = []
            if actor is not None:
                refusal = self._role_refusal(spec, actor, view, {}, judge_scope=False)
                if refusal:
                    reasons.append(refusal)
            reasons += [r for g in spec.guards if g not in INPUT_GUARDS
                        if (r := GUARDS[g](view, ctx))]
            result.append(Verdict(spec.name, spec.label, not reasons, tuple(reasons),
                                  self.needs(spec), spec.dest.value if spec.dest else None))
        return result

    @staticmethod
    def needs(spec: TriggerSpec) -> tuple[str, ...]:
        wanted = [p.describe() for p in spec.params]
        if "reason_given" in spec.guards:
            wanted.append("--reason")
        elif "rationale_if_criteria_not_met" in spec.guards:
            wanted.append("--reason (when the SCR criteria are not met)")
        return tuple(wanted)

    @staticmethod
    def guard_reasons(spec: TriggerSpec, view: CaseView, ctx: GuardContext) -> list[str]:
        """Every failing guard's reason, in the definition's order."""
        return [r for name in spec.guards if (r := GUARDS[name](view, ctx))]

    def criteria(self, session: Session, ref: str) -> dict[str, object]:
        case = queries.case_by_ref(session, ref)
        return assess(snapshot(session, case).referral).as_dict()

    # ---------------------------------------------------------------------- internals
    @staticmethod
    def _spec(trigger: str) -> TriggerSpec:
        spec = TRIGGER_BY_NAME.get(trigger)
        if spec is None:
            raise NotFound(f"unknown trigger {trigger!r} (scr triggers REF lists them)")
        if spec.name == CREATE_TRIGGER:
            raise InvalidInput("refer creates a case: use scr refer")
        return spec

    def _parse(self, spec: TriggerSpec, raw: Mapping[str, Any], now: datetime,
               view: CaseView | None = None) -> dict[str, Any]:
        values = parse_params(spec.params, raw, agencies=self.config.agencies,
                              today=self.config.calendar.local_date(now),
                              context=spec.name)
        for p in spec.params:
            if p.type is PType.INT and p.name == "action" and view is not None \
                    and view.action(values[p.name]) is None:
                raise InvalidInput(f"{view.ref} has no action {values[p.name]}")
        return values

    @staticmethod
    def _reason(reason: str | None) -> str | None:
        if reason is None:
            return None
        return clean_text(reason, "reason", REASON_MAX, multiline=True) or None

    @staticmethod
    def _role_refusal(spec: TriggerSpec, actor: Actor, view: CaseView | None,
                      values: Mapping[str, Any], *, judge_scope: bool = True) -> str | None:
        """None if `actor` may fire `spec`; otherwise the reason they may not."""
        for rule in spec.roles:
            if rule.role not in actor.roles:
                continue
            if rule.scope is None or not judge_scope:
                return None
            if rule.scope == "param":
                agency = values.get("agency")
            else:
                action = view.action(values["action"]) if view else None
                agency = action.agency if action else None
            if actor.agency is not None and actor.agency == agency:
                return None
        wanted = " or ".join(
            f"{r.role} (of {'that' if r.scope else 'any'} agency)" if r.role == Role.AGENCY_LEAD
            else str(r.role) for r in spec.roles if r.role != Role.SYSTEM
        ) or "the daemon's own role"
        return f"{actor.name} may not fire {spec.name}: it needs {wanted}"

    def _record(
        self,
        session: Session,
        case: AnyCase,
        view: CaseView,
        spec: TriggerSpec,
        entry: dict[str, Any],
        *,
        actor: Actor,
        values: dict[str, Any],
        outcome: dict[str, Any],
        announce: Announcement | None,
    ) -> None:
        """Write the history row, re-arm timers and queue the e-mail of one firing."""
        entry["case_id"] = _case_id(case)
        _HISTORY.run(session, entry)
        seq, source, reason = entry["seq"], entry["source"], entry["reason"]
        now, due_at = entry["at"], entry["due_at"]
        changes = arming.update(session, case, view, trigger=spec.name, source=source,
                                params=values, outcome=outcome, now=now, config=self.config)
        late = (now - due_at) if due_at is not None and now > due_at else None
        number = outcome.get("action", values.get("action"))
        if announce is not None:
            selectors, template, label = announce.selectors, announce.template, announce.label
            number = int(announce.key) if announce.key else number
        else:
            selectors, template, label = spec.notify, spec.name, spec.label
        people = notify.directory(session)
        recipients = notify.resolve(people, selectors, view, values, action_number=number)
        event = notify.Event(
            template=template, label=label, source=source,
            actor="scr (automatic)" if actor.is_system else actor.name, reason=reason,
            details=mail_details(spec, values, outcome, view),
            level=announce.level if announce else None,
            late_by=late if late is not None and late > LATE_NOTICE_AFTER else None,
            reasons=announce.reasons if announce else (),
        )
        timezone = self.config.calendar.timezone
        mail = notify.queue(case, event, recipients, board=self.board, timezone=timezone,
                            now=now, deadline=notify.next_deadline(changes.pending, now),
                            history_seq=seq)
        meeting = values.get("meeting_date") if spec.name == "submit_to_sub_group" else None
        if meeting is not None and meeting < self.config.calendar.local_date(now):
            meeting = None
        mail += invitations.queue(
            case, view,
            invitations.changes_for(case, view, changes, domain=self.board.domain,
                                      meeting=meeting, cal_start=self.config.calendar.start_of),
            people=people, board=self.board, timezone=timezone, now=now, history_seq=seq,
            actor=event.actor)
        notify.insert(session, mail)
        log.get(case_ref=case.ref, pseudonym=case.pseudonym, trigger=spec.name,
                actor=actor.name).info("transition", source=source, dest=case.state, seq=seq,
                                       late_s=late.total_seconds() if late else None)


def _case_id(case: AnyCase) -> int:
    assert case.id is not None
    return case.id


def _history_entry(case: AnyCase, seq: int, spec: TriggerSpec, source: str | None, actor: Actor,
                   values: Mapping[str, Any], reason: str | None, now: datetime,
                   outcome: Mapping[str, Any], due_at: datetime | None) -> dict[str, Any]:
    """The history row of a firing, chained to the case's previous row; the case's head
    moves to it (storage.chain)."""
    kept = history_params(spec, values, outcome)
    prev = chain.GENESIS if seq == 1 else (case.history_head or chain.GENESIS)
    digest = chain.row_hash(case_ref=case.ref, seq=seq, trigger=spec.name, source=source,
                            dest=case.state, actor=actor.name, reason=reason, params=kept,
                            at=now, due_at=due_at, prev_hash=prev)
    case.history_head = digest
    return {"case_id": case.id, "seq": seq, "trigger": spec.name, "source": source,
            "dest": case.state, "actor": actor.name, "reason": reason, "params": kept,
            "at": now, "due_at": due_at, "prev_hash": prev, "hash": digest}


_HISTORY = inserting(tables.HISTORY)


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def history_params(spec: TriggerSpec, values: Mapping[str, Any],
                   outcome: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as history keeps them: private free text is marked, not copied."""
    kept: dict[str, Any] = {}
    for p in spec.params:
        value = values.get(p.name)
        if p.private:
            kept[p.name] = "(stored)" if value else None
        elif value is not None:
            kept[p.name] = _plain(value)
    kept.update({k: _plain(v) for k, v in outcome.items()})
    return kept


def mail_details(spec: TriggerSpec, values: Mapping[str, Any], outcome: Mapping[str, Any],
                 view: CaseView) -> tuple[tuple[str, str], ...]:
    """The facts an e-mail may state: non-private parameters, labelled for people."""
    details: list[tuple[str, str]] = []
    for p in spec.params:
        value = values.get(p.name)
        if p.private or p.name in NOT_MAILED or value is None or value == "" or value == []:
            continue
        details.append((p.name.replace("_", " ").capitalize(), _display(value)))
    if "action" in outcome:
        details.append(("Action", str(outcome["action"])))
    if spec.name in (CREATE_TRIGGER, "amend_referral", "recommend") or \
            spec.name.startswith("commission") or spec.name == "decide_no_review":
        verdict = assess(view.referral)
        details.append(("SCR criteria", "met" if verdict.met else "not met"))
    return tuple(details)


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
