"""What the board's open cases still ask of a person (for `scr users deactivate`, and the
renames `scr users change` refuses), and who may rescue a board no business manager can
act on (`scr users rescue`).

What open cases ask of someone, as far as the record says it reliably:

- the cases not in a final state of their process whose lead reviewer they are, each with
  its pending deadlines (the lead reviewer is told of the review's own; the case names
  them by name, and nobody else receives what is addressed to its lead reviewer);
- the actions they own (an action's owner is a user's name) not yet signed off, on cases
  not finished;
- while the board has any open case, the roles nobody else active holds (for an agency
  lead or a safeguarding partner, nobody else of their agency): every deadline addressed to
  that role would reach no one.
"""

from __future__ import annotations

import os
import pwd
from typing import Any

from scr.lifecycle.cli.app import App, login_name
from scr.states.enums import Role
from scr.states.errors import Refused
from scr.storage import cases, timers, users
from scr.storage.db import Tx, sqlite_file

# Roles held for an agency: someone else holding the role for another agency is no
# replacement.
_BY_AGENCY = (Role.AGENCY_LEAD, Role.SAFEGUARDING_PARTNER, Role.LEAD_SAFEGUARDING_PARTNER)


def open_work(app: App, tx: Tx, user: users.UserRecord) -> dict[str, Any]:
    """What the board's open cases ask of `user`: `leading`, the cases whose lead reviewer
    they are (ref, pseudonym, state, deadlines); `actions`, those they own (ref, number,
    agency, due, status); `sole_roles`, the roles nobody else active holds."""

    def finished(definition: str, version: str, state: str) -> bool:
        return state in app.processes.get(definition, version).definition.finals

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


def describe(work: dict[str, Any], name: str) -> str:
    """The open work as lines for people."""
    lines = []
    for case in work["leading"]:
        due = ", ".join(f"{d['timer']} {d['level']} {d['due'][:16]}" for d in case["deadlines"])
        lines.append(f"  lead reviewer of {case['ref']} ({case['pseudonym']}, {case['state']})"
                     + (f": {due}" if due else ""))
    for action in work["actions"]:
        lines.append(f"  owner of action {action['number']} on {action['ref']} "
                     f"({action['agency']}, due {action['due']}, {action['status']})")
    for role in work["sole_roles"]:
        lines.append(f"  the only active {role}: deadlines addressed to the role reach nobody")
    if not lines:
        return f"No open case names {name}."
    return f"Open cases still ask of {name} (reassign them):\n" + "\n".join(lines)


def administrator(database_url: str) -> str:
    """Who may rescue the board, as the audit trail names them: root, or the login that owns
    the SQLite database file, running scr as themselves (sudo from another login is
    refused: people reach the service account through sudo). On PostgreSQL, whose
    database is no file here, root only. Refused (exit 3) for anyone else."""
    me = login_name()
    if os.geteuid() == 0:
        return f"os:{me} (root)"
    file = sqlite_file(database_url)
    if file is None:
        raise Refused("scr users rescue is for the server's administrator: on PostgreSQL, "
                      "run it as root")
    owner = pwd.getpwuid(file.stat().st_uid).pw_name
    if me != owner:
        raise Refused(f"scr users rescue is for the server's administrator: the owner of "
                      f"{file.name} ({owner}) or root, not the login {me}")
    return f"os:{me} (the database's owner)"
