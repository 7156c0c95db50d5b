"""Who is told of a transition or a timer, and the notices queued for them in the outbox.

Runs inside the trigger's transaction: the outbox rows commit with the transition or not at
all; the daemon delivers them after commit (lifecycle/runtime/delivery.py), rendering each
notice then (handlers/render.py). E-mail carries only the case reference, the
pseudonym and safe facts: never the child's name, date of birth or any free text about them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from scr.handlers.notices import CommandLine, Deadline, Notice, subject
from scr.lifecycle.settings import Board
from scr.states import words
from scr.states.case import CaseSnapshot
from scr.states.enums import COMMAND_LINE_ROLES, Role
from scr.states.process import ProcessDefinition
from scr.storage import users
from scr.storage.db import Tx


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    role: str


@dataclass(frozen=True)
class Event:
    """What happened, in the safe terms an e-mail may carry."""

    template: str
    label: str
    source: str | None
    actor: str
    reason: str | None
    details: tuple[tuple[str, str], ...] = ()
    level: str | None = None
    late_by: timedelta | None = None
    reasons: tuple[str, ...] = ()


class Person(NamedTuple):
    name: str
    email: str
    agency: str | None
    roles: frozenset[str]


class Directory:
    """Every active user with their roles, read once per firing, indexed by role."""

    def __init__(self, people: Iterable[Person]) -> None:
        self.people = tuple(people)
        by_role: dict[str, list[Person]] = {}
        for person in self.people:
            for role in person.roles:
                by_role.setdefault(role, []).append(person)
        self._by_role = {role: tuple(found) for role, found in by_role.items()}

    def with_role(self, role: str) -> tuple[Person, ...]:
        return self._by_role.get(role, ())

    def named(self, name: str | None) -> Person | None:
        return next((p for p in self.people if p.name == name), None)


def directory(tx: Tx) -> Directory:
    """The active users and their roles, by name (one statement)."""
    people: dict[str, tuple[str, str | None, set[str]]] = {}
    for name, email, agency, role in users.active_roles(tx):
        people.setdefault(name, (email, agency, set()))[2].add(role)
    return Directory(Person(name, email, agency, frozenset(roles))
                     for name, (email, agency, roles) in people.items())


def resolve(
    people: Directory,
    selectors: Iterable[str],
    view: CaseSnapshot,
    params: dict[str, object],
    *,
    action_number: int | None = None,
) -> list[Recipient]:
    """The people `selectors` name for this case, the business manager always first.

    One entry per address: someone named twice is told once, under the first role found.
    """
    found: dict[str, Recipient] = {}

    def add(users: Iterable[Person], role: str) -> None:
        for user in users:
            if user.email not in found:
                found[user.email] = Recipient(user.name, user.email, role)

    add(people.with_role(Role.BUSINESS_MANAGER), Role.BUSINESS_MANAGER)
    for selector in selectors:
        role, _, scope = selector.partition(":")
        if role == "agency_leads":
            agencies = _agencies(scope, view, params, action_number)
            add([u for u in people.with_role(Role.AGENCY_LEAD) if u.agency in agencies],
                Role.AGENCY_LEAD)
        elif role == "subgroup_members":
            add(people.with_role(Role.SUBGROUP_MEMBER), Role.SUBGROUP_MEMBER)
        elif role == "lead_reviewer":
            add([u for u in people.with_role(Role.LEAD_REVIEWER)
                 if u.name == view.lead_reviewer], Role.LEAD_REVIEWER)
        elif role == "action_owner":
            add(_owners(people, view, params, action_number), "action_owner")
        else:
            add(people.with_role(role), role)
    return list(found.values())


def _agencies(
    scope: str, view: CaseSnapshot, params: dict[str, object], action_number: int | None
) -> set[str]:
    if scope == "params":
        named = params.get("agencies") or [params.get("agency")]
        assert isinstance(named, list)
        return {str(a) for a in named if a}
    if scope == "asked":
        return {a.agency for a in view.agencies}
    if scope == "outstanding":
        return {a.agency for a in view.outstanding()}
    if scope == "actions":
        # The agencies of the actions an audit or training names; every action's agency
        # when it names none (the review's learning as a whole).
        named = params.get("actions") or [a.number for a in view.actions]
        assert isinstance(named, list)
        return {a.agency for n in named if (a := view.action(int(n))) is not None}
    action = view.action(_number(params, action_number))
    return {action.agency} if action else set()


def _owners(
    people: Directory, view: CaseSnapshot, params: dict[str, object], action_number: int | None
) -> list[Person]:
    """The action's owner if they are a user; otherwise the lead of the action's agency."""
    action = view.action(_number(params, action_number))
    if action is None:
        return []
    owner = people.named(action.owner)
    if owner is not None:
        return [owner]
    return [u for u in people.with_role(Role.AGENCY_LEAD) if u.agency == action.agency]


def _number(params: dict[str, object], action_number: int | None) -> int:
    value = action_number if action_number is not None else params.get("action", 0)
    return int(value)  # type: ignore[call-overload]


def next_deadline(definition: ProcessDefinition, pending: Sequence[Any],
                  now: datetime) -> Deadline | None:
    """The earliest of the case's pending timers still ahead of `now`, as a deadline an
    e-mail can name (during a catch-up, timers already due are about to fire, not deadlines
    ahead)."""
    ahead = [t for t in pending if t.due_at > now]
    if not ahead:
        return None
    first = min(ahead, key=lambda t: t.due_at)
    return Deadline(words.timer_label(definition, first.ladder, first.level, first.key),
                    first.due_at)


def command_line(definition: ProcessDefinition) -> CommandLine:
    """What e-mail about a case of `definition` may tell people to type: each trigger a
    person fires with `scr advance` (not the one that opens a record, nor the daemon's
    own), with its parameters, for the roles that use the command line."""
    return CommandLine(
        triggers={spec.name: tuple(p.name for p in spec.params)
                  for spec in definition.all_triggers if not spec.system_only},
        roles=frozenset(str(role) for role in COMMAND_LINE_ROLES))


def _role_words(definition: ProcessDefinition | None) -> tuple[tuple[str, str], ...]:
    """The roles the definition names in words of its own (the shared words are the
    templates')."""
    own = words.role_words(definition)
    return tuple((role, said) for role, said in own.items() if said != words.ROLE_LABELS[role])


def case_link(board: Board, ref: str) -> str | None:
    """The case's page in the portal, when the board has one (`[web] base_url`)."""
    return f"{board.portal_url}/cases/{ref}" if board.portal_url else None


def queue(
    case: Any,
    event: Event,
    recipients: Sequence[Recipient],
    *,
    state_label: str,
    board: Board,
    timezone: str,
    now: datetime,
    deadline: Deadline | None,
    history_seq: int | None,
    calendar: Callable[[Recipient], dict[str, Any]] | None = None,
    act: tuple[tuple[str, str, str], ...] = (),
    definition: ProcessDefinition | None,
) -> list[dict[str, Any]]:
    """One outbox row per recipient, holding the notice it will be rendered from.

    `case` is anything with the case's id, ref, pseudonym, state, definition and
    definition_version; `definition` is the definition it runs under, from the caller's
    registry (None only for a case of a definition this code does not know: a delivery
    alert about it names its state as stored). Returns the rows as
    column values; the caller queues them with the transition (storage.outbox.queue).
    """
    from scr.handlers.mail import make_message_id
    from scr.handlers.notices import notice_to_json

    if not recipients:
        return []
    source_label = (words.state_label(definition, event.source)
                    if event.source is not None else None)
    # The notice differs between recipients only in whom it addresses: made and turned
    # into JSON once, then addressed to each.
    notice = Notice(
        template=event.template, board_name=board.name, case_ref=case.ref,
        pseudonym=case.pseudonym, state=case.state,
        state_label=state_label, source=event.source,
        event_label=event.label, actor=event.actor, reason=event.reason,
        details=event.details, next_deadline=deadline, recipient_name="", recipient_role="",
        level=event.level, late_by=event.late_by, reasons=event.reasons, timezone=timezone,
        case_url=case_link(board, case.ref), act=act,
        source_label=source_label, role_words=_role_words(definition),
        record="case" if definition is None or definition.referred else "review",
        definition=definition.name if definition is not None else None,
        definition_version=definition.version if definition is not None else None,
    )
    # The stored notice is the event's; the row says whom it addresses (delivery puts the
    # two together), so every row of the event shares it.
    common = notice_to_json(notice)
    del common["recipient_name"], common["recipient_role"]
    title = subject(notice)
    rows = []
    event_key = f"outbox-{uuid.uuid4().hex}"  # one random key per event, numbered per row
    for number, person in enumerate(recipients):
        rows.append({
            "case_id": case.id, "case_ref": case.ref, "recipient": person.email,
            "recipient_name": person.name, "recipient_role": person.role,
            "template": event.template, "subject": title, "notice": common,
            "calendar": calendar(person) if calendar else None,
            "message_id": make_message_id(f"{event_key}-{number}", board.domain),
            "created_at": now, "next_attempt_at": now, "history_seq": history_seq,
        })
    return rows
