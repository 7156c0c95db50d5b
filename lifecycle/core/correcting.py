"""Correcting a recorded day or value of a case, on the record (states/corrections.py says
what may be corrected; `scr cases correct`).

A business manager corrects one value with a reason, in one transaction: the case's facts
document (or its lead reviewer) takes the new value; its pending timers are planned again
from the dates it now has, by the rules a move to a new version follows
(lifecycle/core/migrating.py `replan`: a level that went out is not sent again, of the
levels now past only a deadline still open is kept, for the daemon to say once); whoever
holds a deadline the correction moves gets the calendar update; and a history row, named
CORRECT_TRIGGER, keeps the value it replaced beside the new one, and seals the record as
every row does. A correction is not a step of the process: the case stays where it is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from scr.lifecycle import log
from scr.lifecycle.core import invitations, notify
from scr.lifecycle.core.arming import TimerChanges
from scr.lifecycle.core.engine import REASON_MAX, actor_label
from scr.lifecycle.core.migrating import replan
from scr.lifecycle.core.process import Process
from scr.lifecycle.settings import Board
from scr.states.case import Actor
from scr.states.corrections import CORRECT_TRIGGER, LEAD_REVIEWER, correctable
from scr.states.enums import Role
from scr.states.errors import InvalidInput, NotFound, Refused
from scr.states.facts import Fact, FactType, stored_value
from scr.states.facts import check as check_facts
from scr.states.params import clean_text
from scr.storage import cases, history, outbox, seal, timers, users
from scr.storage.db import Tx, conflicts
from scr.storage.timers import TimerRecord


@dataclass(frozen=True)
class Corrected:
    """What a correction did: the value it replaced, the new one, the case's pending timers
    after it."""

    ref: str
    pseudonym: str
    field: str
    was: Any
    now: Any
    timers: tuple[TimerRecord, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "pseudonym": self.pseudonym, "field": self.field,
                "from": self.was, "to": self.now,
                "timers": [{"name": t.name, "due_at": t.due_at.isoformat()}
                           for t in self.timers]}


def correct(tx: Tx, process: Process, ref: str, field: str, value: str, *, actor: Actor,
            reason: str | None, now: datetime, board: Board | None = None) -> Corrected:
    """Correct `field` of case `ref` to `value` (as typed), as `actor`, with `reason`.

    InvalidInput (exit 2) for a field that may not be corrected, one not yet recorded, a
    value that is not one, the same value, or no reason; Refused (exit 3) for anyone but a
    business manager; nothing is written then."""
    if Role.BUSINESS_MANAGER not in actor.roles:
        raise Refused("only a business manager corrects what a case records")
    why = clean_text(reason or "", "reason", REASON_MAX, multiline=True)
    if not why:
        raise InvalidInput("a correction needs a reason (--reason)")
    case, snapshot = cases.load_with_snapshot(tx, ref)
    if process.definition.key != (case.definition, case.definition_version):
        raise ValueError(f"{ref} runs under another definition than the one given")
    allowed = correctable(process.definition)
    if field not in allowed:
        raise InvalidInput(f"{field}: not a value a correction may change on {ref}; those "
                           f"it may: {', '.join(sorted(allowed)) or 'none'}")
    fact = allowed[field]
    if fact is None:
        was, new = case.lead_reviewer, _reviewer(tx, value)
    else:
        was, new = (case.facts or {}).get(field), _value(fact, value, process, now)
    if was is None:
        raise InvalidInput(f"{field}: nothing is recorded on {ref} to correct (record it "
                           "with its own step)")
    if was == new:
        raise InvalidInput(f"{field}: {ref} records {was} already")
    with conflicts(case.ref):
        seq = case.version + 1  # one version per history row
        if fact is None:
            case.lead_reviewer = new
        else:
            case.facts = {**(case.facts or {}), field: new}
            check_facts(process.definition.facts, case.facts)
        case.updated_at = now
        after = dataclasses.replace(snapshot, facts=case.facts,
                                    lead_reviewer=case.lead_reviewer)
        armed, _ = replan(tx, process, case, after, now)
        held = timers.pending(tx, case.id)
        timers.disarm(tx, held)
        timers.arm(tx, case.id, armed)
        if board is not None:
            days = process.config.working_days
            changes = invitations.changes_for(
                process.definition, case, after, TimerChanges(armed=armed, disarmed=held),
                meeting=None, cal_start=days.start_of)
            outbox.queue(tx, invitations.queue(
                process.definition, case, after, changes, people=notify.directory(tx),
                board=board, timezone=days.timezone, now=now, history_seq=seq,
                actor=actor_label(actor)))
        entry = history.chain(
            case, seq=seq, trigger=CORRECT_TRIGGER, source=case.state, actor=actor.name,
            reason=why, params={"field": field, "from": was, "to": new}, at=now,
            due_at=None, record=seal.digest(tx, case), recorded_by=actor.recorded_by)
        history.append(tx, case.id, entry)
        cases.save(tx, case)
    log.get(case_ref=case.ref, pseudonym=case.pseudonym, trigger=CORRECT_TRIGGER,
            actor=actor.name, recorded_by=actor.recorded_by).info(
        "case.corrected", field=field, seq=seq)
    return Corrected(case.ref, case.pseudonym, field, was, new, tuple(armed))


def _reviewer(tx: Tx, name: str) -> str:
    """The lead reviewer named: an active user holding the role."""
    named = clean_text(name, LEAD_REVIEWER, 100)
    try:
        user = users.named(tx, named)
    except NotFound:
        user = None
    if user is None or not user.active or LEAD_REVIEWER not in user.roles:
        raise InvalidInput(f"{LEAD_REVIEWER}: no active user called {named!r} holds the role "
                           f"{LEAD_REVIEWER} (scr users list)")
    return named


def _value(fact: Fact, text: str, process: Process, now: datetime) -> Any:
    """`text` as a value of `fact`, in its stored form; InvalidInput if it is not one."""
    typed = text.strip()
    if fact.type is FactType.DAY:
        try:
            day = date.fromisoformat(typed)
        except ValueError:
            raise InvalidInput(f"{fact.name}: not a date YYYY-MM-DD (got {typed[:20]!r})"
                               ) from None
        if day > process.config.working_days.local_date(now):
            raise InvalidInput(f"{fact.name}: in the future (got {typed})")
        return stored_value(day)
    if fact.type is FactType.FLAG:
        if typed.lower() not in ("true", "false"):
            raise InvalidInput(f"{fact.name}: true or false (got {typed[:20]!r})")
        return typed.lower() == "true"
    if fact.type is FactType.CHOICE and typed not in fact.choices:
        raise InvalidInput(f"{fact.name}: one of {', '.join(fact.choices)} "
                           f"(got {typed[:20]!r})")
    return clean_text(typed, fact.name, fact.max_length)
