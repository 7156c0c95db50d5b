"""The board's people for their whole time with it: what the command line (`scr users`) and
the portal's People page (lifecycle/web/people_page.py) share of deactivating a leaver and
reactivating them, and what the board's open cases still ask of a person.

What open cases ask of someone, as far as the record says it reliably:

- the cases not in a final state of their process whose lead reviewer they are, each with
  its pending deadlines (the case names its lead reviewer, and nobody else receives what is
  addressed to them);
- the actions they own (an action's owner is a user's name) not yet signed off, on cases
  not finished;
- while the board has any open case, the roles nobody else active holds (for an agency
  lead or a safeguarding partner, nobody else of their agency): every deadline addressed to
  that role would reach no one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scr.lifecycle.core.process import Processes
from scr.states.case import Actor
from scr.states.enums import Role
from scr.states.errors import InvalidInput, Refused
from scr.states.params import clean_text
from scr.storage import cases, timers, users, web
from scr.storage.db import Tx

# Roles held for an agency: someone else holding the role for another agency is no
# replacement.
_BY_AGENCY = (Role.AGENCY_LEAD, Role.SAFEGUARDING_PARTNER, Role.LEAD_SAFEGUARDING_PARTNER)


def manager_name(actor: Actor) -> str:
    """The business manager changing users, in their own name; Refused otherwise."""
    if actor.recorded_by is not None:
        raise Refused("users are changed by a business manager in their own name, not on "
                      "someone's behalf (--as)")
    if Role.BUSINESS_MANAGER not in actor.roles:
        raise Refused(f"{actor.name} may not change users: it needs business_manager")
    return actor.name


def last_manager(tx: Tx, user: users.UserRecord) -> bool:
    """Whether `user` is the only active business manager."""
    return user.active and Role.BUSINESS_MANAGER in user.roles and not [
        u for u in users.with_role(tx, Role.BUSINESS_MANAGER) if u.id != user.id]


def deactivate(tx: Tx, processes: Processes, name: str, *, by: str, reason: str,
               now: datetime) -> tuple[users.UserRecord, int, dict[str, Any]]:
    """A leaver: they may no longer act or sign in, their portal sessions end and their
    unused sign-in links expire; recorded in the users' audit trail. Returns them as they
    now are, how many sessions ended, and what open cases still ask of them. InvalidInput
    without a reason; Refused for someone deactivated already, or the only active business
    manager."""
    why = clean_text(reason, "reason", 500)
    if not why:
        raise InvalidInput("reason: say why (a leaver, a long absence)")
    user = users.named(tx, name)
    if not user.active:
        raise Refused(f"{user.name} is deactivated already")
    if last_manager(tx, user):
        raise Refused(f"{user.name} is the only active business manager: add or reactivate "
                      "another first")
    ended = web.end_sessions_of(tx, user.id, now)
    work = open_work(processes, tx, user)
    changed = users.change(tx, user, by=by, now=now, action="deactivate",
                           values={"active": False},
                           details={"reason": why, "sessions_ended": ended})
    return changed, ended, work


def reactivate(tx: Tx, name: str, *, by: str, now: datetime) -> users.UserRecord:
    """A person deactivated may act and sign in again; Refused for someone active, or whose
    e-mail address another active user has taken meanwhile."""
    user = users.named(tx, name)
    if user.active:
        raise Refused(f"{user.name} is active already")
    taken = users.by_email(tx, user.email)
    if taken is not None and taken.id != user.id:
        raise InvalidInput(f"the e-mail address of {user.name} is {taken.name}'s now")
    return users.change(tx, user, by=by, now=now, action="reactivate",
                        values={"active": True}, details={})


def open_work(processes: Processes, tx: Tx, user: users.UserRecord) -> dict[str, Any]:
    """What the board's open cases ask of `user`: `leading`, the cases whose lead reviewer
    they are (ref, pseudonym, state, deadlines); `actions`, those they own (ref, number,
    agency, due, status); `sole_roles`, the roles nobody else active holds."""

    def finished(definition: str, version: str, state: str) -> bool:
        return state in processes.get(definition, version).definition.finals

    led, owned = users.named_on_cases(tx, user.name)
    led = [c for c in led if not finished(c.definition, c.definition_version, c.state)]
    pending = timers.pending_of(tx, [c.id for c in led])
    leading = [{"ref": c.ref, "pseudonym": c.pseudonym, "state": c.state,
                "deadlines": [{"timer": t.name, "level": t.level, "due": t.due_at.isoformat()}
                              for t in sorted(pending[c.id], key=lambda t: t.due_at)]}
               for c in led]
    actions = [{"ref": a.ref, "number": a.number, "agency": a.agency,
                "due": a.due.isoformat(), "status": a.status}
               for a in owned if not finished(a.definition, a.definition_version, a.state)]
    anything_open = any(not finished(c.definition, c.definition_version, c.state)
                        for c in cases.listing(tx))
    return {"leading": leading, "actions": actions,
            "sole_roles": _sole_roles(tx, user) if anything_open else []}


def _sole_roles(tx: Tx, user: users.UserRecord) -> list[str]:
    alone = []
    for role in user.roles:
        others = [u for u in users.with_role(tx, role) if u.id != user.id
                  and (role not in _BY_AGENCY or u.agency == user.agency)]
        if not others:
            alone.append(f"{role} ({user.agency})" if role in _BY_AGENCY else role)
    return alone


def describe(work: dict[str, Any], name: str) -> list[str]:
    """The open work as lines for people (none: nothing is asked of them)."""
    lines = []
    for case in work["leading"]:
        due = ", ".join(f"{d['timer']} {d['level']} {d['due'][:16]}" for d in case["deadlines"])
        lines.append(f"lead reviewer of {case['ref']} ({case['pseudonym']}, {case['state']})"
                     + (f": {due}" if due else ""))
    for action in work["actions"]:
        lines.append(f"owner of action {action['number']} on {action['ref']} "
                     f"({action['agency']}, due {action['due']}, {action['status']})")
    for role in work["sole_roles"]:
        lines.append(f"the only active {role}: deadlines addressed to the role reach nobody")
    return lines
