"""The board's people: users, their roles, and the audit trail of changes to them (chained:
storage.ledger)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from scr.states.errors import NotFound
from scr.storage import ledger
from scr.storage.db import Tx
from scr.storage.prepared import Prepared
from scr.storage.tables import ACTIONS, CASES, USER_AUDIT, USER_ROLES, USERS

_U, _UR = USERS, USER_ROLES


@dataclass(frozen=True)
class UserRecord:
    id: int
    name: str
    email: str
    agency: str | None
    active: bool
    roles: tuple[str, ...]
    login: str | None = None


_USER = select(_U.c.id, _U.c.name, _U.c.email, _U.c.agency, _U.c.active, _U.c.login)
_ROLES = select(_UR.c.user_id, _UR.c.role).order_by(_UR.c.role)
_WITH_ROLES = select(*_USER.selected_columns, _UR.c.role).outerjoin(
    _UR, _UR.c.user_id == _U.c.id).order_by(_UR.c.role)
_ACTIVE_ROLES = Prepared(
    select(_U.c.name, _U.c.email, _U.c.agency, _UR.c.role)
    .join(_UR, _UR.c.user_id == _U.c.id)
    .where(_U.c.active.is_(True))
    .order_by(_U.c.name, _UR.c.role)
)


def _with_roles(tx: Tx, rows: Sequence[Any]) -> list[UserRecord]:
    ids = [r.id for r in rows]
    roles: dict[int, list[str]] = {}
    if ids:
        for user_id, role in tx.execute(_ROLES.where(_UR.c.user_id.in_(ids))):
            roles.setdefault(user_id, []).append(role)
    return [UserRecord(r.id, r.name, r.email, r.agency, bool(r.active),
                       tuple(roles.get(r.id, ())), r.login) for r in rows]


def _one(tx: Tx, where: Any, values: dict[str, Any]) -> UserRecord | None:
    """The one user `where` finds, with their roles, in one statement; None if none."""
    rows = tx.execute(_WITH_ROLES.where(where), values).all()
    if not rows:
        return None
    r = rows[0]
    return UserRecord(r.id, r.name, r.email, r.agency, bool(r.active),
                      tuple(row.role for row in rows if row.role is not None), r.login)


def named(tx: Tx, name: str) -> UserRecord:
    """The user called `name` (exact match), with their roles; NotFound if there is none."""
    found = _one(tx, _U.c.name == bindparam("name"), {"name": name})
    if found is None:
        raise NotFound(f"unknown user {name!r}")
    return found


def every(tx: Tx) -> list[UserRecord]:
    """Every user, by name, with their roles (sorted)."""
    return _with_roles(tx, tx.execute(_USER.order_by(_U.c.name)).all())


def with_role(tx: Tx, role: str) -> list[UserRecord]:
    """Active users holding `role`, by name."""
    return [u for u in every(tx) if u.active and role in u.roles]


def active_roles(tx: Tx) -> list[tuple[str, str, str | None, str]]:
    """(name, email, agency, role) of every role of every active user, by name then role;
    one statement, read once per firing for the e-mail's recipients."""
    return [(name, email, agency, role) for name, email, agency, role
            in _ACTIVE_ROLES.all(tx)]


def add(tx: Tx, *, name: str, email: str, agency: str | None, roles: Sequence[str],
        by: str, now: datetime, login: str | None = None, action: str = "add") -> UserRecord:
    """A new active user with `roles` (acting on the command line as `login`), and its line
    in the audit trail (`action`: add, or rescue when the database's owner added them)."""
    user_id = tx.execute(insert(_U).values(name=name, email=email, agency=agency, active=True,
                                           created_at=now, login=login)
                         .returning(_U.c.id)).scalar_one()
    tx.execute(insert(_UR), [{"user_id": user_id, "role": role} for role in roles])
    details: dict[str, Any] = {"email": email, "roles": list(roles), "agency": agency}
    if login is not None:
        details["login"] = login
    ledger.append(tx, at=now, actor=by, action=action, user_name=name, details=details)
    return UserRecord(user_id, name, email, agency, True, tuple(roles), login)


def by_login(tx: Tx, login: str) -> UserRecord | None:
    """The user whose operating-system login is `login`, or None."""
    return _one(tx, _U.c.login == bindparam("login"), {"login": login})


def by_email(tx: Tx, email: str) -> UserRecord | None:
    """The active user with this address (compared without regard to case), or None."""
    rows = tx.execute(_USER.where(func.lower(_U.c.email) == email.strip().lower(),
                                  _U.c.active.is_(True)).order_by(_U.c.id)).all()
    found = _with_roles(tx, rows[:1])
    return found[0] if found else None


def by_id(tx: Tx, user_id: int) -> UserRecord | None:
    return _one(tx, _U.c.id == bindparam("user_id"), {"user_id": user_id})


_COLUMNS = ("name", "email", "agency", "login", "active")


def change(tx: Tx, user: UserRecord, *, by: str, now: datetime, action: str,
           values: dict[str, Any], roles: Sequence[str] | None = None,
           details: dict[str, Any]) -> UserRecord:
    """Set the user's columns in `values` (name, email, agency, login, active) and, when
    given, their roles; then a line in the audit trail naming `by`, `action` and `details`
    (what changed, old and new), under the user's name as it now is. The user as written."""
    unknown = set(values) - set(_COLUMNS)
    assert not unknown, unknown
    if values:
        tx.execute(update(_U).where(_U.c.id == user.id).values(**values))
    if roles is not None:
        tx.execute(delete(_UR).where(_UR.c.user_id == user.id))
        tx.execute(insert(_UR), [{"user_id": user.id, "role": role} for role in roles])
    ledger.append(tx, at=now, actor=by, action=action,
                  user_name=values.get("name", user.name), details=details)
    found = by_id(tx, user.id)
    assert found is not None
    return found


def record(tx: Tx, *, at: datetime, actor: str, action: str, user_name: str,
           details: dict[str, Any]) -> None:
    """A line in the users' audit trail: a sign-in, a failed one, a sign-out."""
    ledger.append(tx, at=at, actor=actor, action=action, user_name=user_name, details=details)


def audit(tx: Tx) -> Sequence[Any]:
    """The audit trail of changes to users, oldest first."""
    return tx.execute(select(USER_AUDIT).order_by(USER_AUDIT.c.id)).all()


def named_on_cases(tx: Tx, name: str) -> tuple[Sequence[Any], Sequence[Any]]:
    """Where cases name `name`: the cases whose lead reviewer they are (id, ref, pseudonym,
    state, definition, definition_version), and the actions they own that are not signed
    off (ref, state, definition, definition_version, number, agency, due, status); each by
    reference. Whether a case is still open is the caller's to say (its process's final
    states)."""
    _C, _A = CASES, ACTIONS
    led = tx.execute(select(_C.c.id, _C.c.ref, _C.c.pseudonym, _C.c.state, _C.c.definition,
                            _C.c.definition_version)
                     .where(_C.c.lead_reviewer == name).order_by(_C.c.ref)).all()
    owned = tx.execute(select(_C.c.ref, _C.c.state, _C.c.definition, _C.c.definition_version,
                              _A.c.number, _A.c.agency, _A.c.due, _A.c.status)
                       .join(_C, _C.c.id == _A.c.case_id)
                       .where(_A.c.owner == name, _A.c.status != "signed_off")
                       .order_by(_C.c.ref, _A.c.number)).all()
    return led, owned
