"""`scr users add` and `scr users list`: the board's people."""

from __future__ import annotations

import argparse
import re
from argparse import Namespace
from collections.abc import Callable
from typing import Any

from scr.lifecycle import board_people
from scr.lifecycle.cli import leavers
from scr.lifecycle.cli.app import App, Output, login_name
from scr.lifecycle.core import people
from scr.lifecycle.views.documents import user_entry
from scr.lifecycle.views.text import table
from scr.states.enums import PARTNERS, USER_ROLES, Role
from scr.states.errors import InvalidInput, NotFound, Refused
from scr.states.params import clean_text
from scr.storage import users
from scr.storage.db import Tx, reading, transaction

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")


def _name(raw: str, what: str = "name") -> str:
    """A user's name as it is kept: one line, single spaces, no commas, none of scr's own."""
    name = clean_text(raw, what, 100)
    if not name or "," in name:
        raise InvalidInput(f"{what}: must be non-empty text without commas")
    name = " ".join(name.split())
    if people.reserved(name):
        raise InvalidInput(f"{what}: {name!r} is a name scr uses for itself (system, scr, "
                           "os:...)")
    return name


def _login(login: str, what: str = "--login") -> str:
    if not people.LOGIN.match(login):
        raise InvalidInput(f"{what}: not an operating-system login: {login[:40]!r}")
    return login


def _email(raw: str) -> str:
    email = raw.strip()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput(f"email: not an e-mail address: {email[:60]!r}")
    return email


def _roles(roles: list[str]) -> list[str]:
    for role in roles:
        if role not in USER_ROLES:
            raise InvalidInput(f"unknown role {role!r} (one of {', '.join(USER_ROLES)})")
    return roles


def _agency_fits(app: App, roles: list[str], agency: str | None) -> None:
    """The agency is one the board knows, and the roles that need one have it."""
    if agency is not None and agency not in (*app.settings.process.agencies, *PARTNERS):
        raise InvalidInput(f"unknown agency {agency!r}")
    if Role.SAFEGUARDING_PARTNER in roles and agency not in PARTNERS:
        raise InvalidInput(f"a safeguarding_partner needs --agency, the partner they are: one "
                           f"of {', '.join(PARTNERS)}")
    if Role.AGENCY_LEAD in roles and agency not in app.settings.process.agencies:
        raise InvalidInput("an agency_lead needs --agency, one of the board's agencies")


def _unique(tx: Tx, *, own_id: int | None, name: str | None = None,
            email: str | None = None, login: str | None = None) -> None:
    """No other user has (or has a name looking like) `name`, this e-mail address
    (compared without regard to case: the portal signs in by it) or this login."""
    for other in users.every(tx):
        if other.id == own_id:
            continue
        if name is not None:
            if other.name == name:
                raise InvalidInput(f"user {name!r} already exists")
            if people.looks_like(name, other.name):
                raise InvalidInput(f"name: {name!r} looks like the existing user "
                                   f"{other.name!r} (names that differ only in case, spacing "
                                   "or look-alike letters would be mistaken in history and "
                                   "e-mail)")
        if email is not None and other.email.lower() == email.lower():
            raise InvalidInput(f"--email: {email} is already {other.name}'s")
        if login is not None and other.login == login:
            raise InvalidInput(f"--login: {login} is already {other.name}'s")


def users_add(app: App, args: Namespace) -> Output:
    name = _name(args.name)
    login = None if args.login is None else _login(args.login)
    email = _email(args.email)
    roles = _roles(list(dict.fromkeys(args.role or [])))
    if not roles:
        raise InvalidInput("give at least one --role")
    agency = args.agency
    _agency_fits(app, roles, agency)
    bound = False
    with transaction(app.db()) as tx:
        by = _user_admin(app, tx)
        if login is None and by.startswith(people.RESERVED_PREFIX) and \
                not app.settings.training:
            # The very first user of a live board acts as the login that added them:
            # otherwise nobody could act as a business manager to add anyone else.
            login, bound = _login(login_name(), "the login running scr"), True
        _unique(tx, own_id=None, name=name, email=email, login=login)
        user = users.add(tx, name=name, email=email, agency=agency, roles=roles, by=by,
                         now=app.now(), login=login)
    return Output(user_entry(user), f"added {name} <{email}> as {', '.join(roles)}"
                  + (f" ({agency})" if agency else "")
                  + (f", acting on the command line as login {login}" if login else "")
                  + (" (the login that added them: the first user acts as the login that "
                     "adds them unless --login says otherwise)" if bound else ""))


def _user_admin(app: App, tx: Tx) -> str:
    """Who is changing users: a business manager (the login's user; in training mode, the
    one --as names). Only the very first user may be added without one (nobody exists yet
    to name), and is recorded as added by the operating-system login."""
    actor = app.actor(tx, required=False)
    if actor is None:
        if users.every(tx):
            raise Refused("only the very first user may be added without a business "
                          "manager" + (" (give --as NAME)" if app.settings.training else
                                       f": the login {login_name()} is no user's (when no "
                                       "business manager can act, the database's owner adds "
                                       "one with scr users rescue)"))
        return f"{people.RESERVED_PREFIX}{login_name()}"
    return board_people.manager_name(actor)


def _manager(app: App, tx: Tx) -> str:
    """The business manager changing a user (they must be one, in their own name)."""
    actor = app.actor(tx)
    assert actor is not None
    return board_people.manager_name(actor)


def _last_manager(tx: Tx, user: users.UserRecord) -> bool:
    """Whether `user` is the only active business manager."""
    return user.active and Role.BUSINESS_MANAGER in user.roles and not [
        u for u in users.with_role(tx, Role.BUSINESS_MANAGER) if u.id != user.id]


def users_change(app: App, args: Namespace) -> Output:
    """Change a user's name, address, roles, agency or login: each change one line in the
    users' audit trail, with the old and the new values."""
    if args.role and (args.add_role or args.remove_role):
        raise InvalidInput("--role sets every role: give it, or --add-role/--remove-role, "
                           "not both")
    with transaction(app.db()) as tx:
        by = _manager(app, tx)
        user = users.named(tx, args.name)
        values: dict[str, Any] = {}
        if args.new_name is not None:
            values["name"] = _name(args.new_name, "--name")
        if args.email is not None:
            values["email"] = _email(args.email)
        if args.no_agency:
            values["agency"] = None
        elif args.agency is not None:
            values["agency"] = args.agency
        if args.no_login:
            values["login"] = None
        elif args.login is not None:
            values["login"] = _login(args.login)
        roles = list(user.roles)
        if args.role:
            roles = list(dict.fromkeys(args.role))
        for role in args.add_role or []:
            if role not in roles:
                roles.append(role)
        for role in args.remove_role or []:
            if role not in user.roles:
                raise InvalidInput(f"--remove-role: {user.name} does not hold {role!r}")
            roles.remove(role)
        _roles([*roles, *(args.remove_role or [])])
        if not roles:
            raise InvalidInput(f"{user.name} would hold no role: a user holds at least one "
                               "(scr users deactivate for a leaver)")
        roles = sorted(roles)
        _agency_fits(app, roles, values.get("agency", user.agency))
        old = user_entry(user)
        values = {k: v for k, v in values.items() if old[k] != v}
        new_roles = roles if roles != sorted(user.roles) else None
        if not values and new_roles is None:
            raise InvalidInput(f"nothing to change for {user.name}: give what changes "
                               "(scr users change --help)")
        _unique(tx, own_id=user.id, name=values.get("name"), email=values.get("email"),
                login=values.get("login"))
        if Role.BUSINESS_MANAGER not in roles and _last_manager(tx, user):
            raise Refused(f"{user.name} is the only active business manager: add another "
                          "before taking the role away")
        _named_on_open_cases(app, tx, user, renamed="name" in values,
                             loses_review=Role.LEAD_REVIEWER in user.roles
                             and Role.LEAD_REVIEWER not in roles)
        details = {k: {"old": old[k], "new": v} for k, v in values.items()}
        if new_roles is not None:
            details["roles"] = {"old": sorted(user.roles), "new": new_roles}
        changed = users.change(tx, user, by=by, now=app.now(), action="change",
                               values=values, roles=new_roles, details=details)
    text = "; ".join(f"{k} {_shown(d['old'])} -> {_shown(d['new'])}"
                     for k, d in details.items())
    return Output({**user_entry(changed), "changed": details},
                  f"changed {user.name}: {text}")


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "(none)"
    return "(none)" if value is None else str(value)


def _named_on_open_cases(app: App, tx: Tx, user: users.UserRecord, *, renamed: bool,
                         loses_review: bool) -> None:
    """Refuse a rename (or taking the lead_reviewer role away) while an open case names the
    user: cases name people by name (the lead reviewer, an action's owner) and e-mail
    reaches them by it, so the case would name nobody. History keeps the name a person
    had when they acted, and the audit trail says who they became."""
    if not (renamed or loses_review):
        return
    work = leavers.open_work(app, tx, user)
    leading = [c["ref"] for c in work["leading"]]
    owning = sorted({a["ref"] for a in work["actions"]})
    if renamed and (leading or owning):
        where = "; ".join(part for part in (
            f"the lead reviewer of {', '.join(leading)}" if leading else "",
            f"the owner of open actions on {', '.join(owning)}" if owning else "") if part)
        raise Refused(f"{user.name} is {where}: those cases name them, so a rename would "
                      "leave them naming nobody (and e-mail would stop reaching them). "
                      "Rename them once those cases are finished and the actions signed off")
    if loses_review and leading:
        raise Refused(f"{user.name} is the lead reviewer of {', '.join(leading)}: the role "
                      "stays while they lead an open case")


def users_deactivate(app: App, args: Namespace) -> Output:
    """A leaver: they may no longer act or sign in, their portal sessions end, and what
    open cases still ask of them is listed for the business manager to reassign
    (lifecycle/board_people.py)."""
    if not clean_text(args.reason, "--reason", 500):
        raise InvalidInput("--reason: say why (a leaver, a long absence)")
    with transaction(app.db()) as tx:
        by = _manager(app, tx)
        changed, ended, work = board_people.deactivate(tx, app.processes, args.name, by=by,
                                                 reason=args.reason, now=app.now())
    doc = {**user_entry(changed), "reason": clean_text(args.reason, "--reason", 500),
           "sessions_ended": ended, "open": work}
    return Output(doc, f"deactivated {changed.name}: they can no longer act or sign in"
                  f"{f' ({ended} portal session(s) ended)' if ended else ''}\n"
                  + leavers.describe(work, changed.name))


def users_reactivate(app: App, args: Namespace) -> Output:
    with transaction(app.db()) as tx:
        changed = board_people.reactivate(tx, args.name, by=_manager(app, tx), now=app.now())
    return Output(user_entry(changed), f"reactivated {changed.name}: they may act and sign "
                  "in again")


def users_rescue(app: App, args: Namespace) -> Output:
    """The way out when no business manager can act (the first one bound to no login, or
    to a login that is gone): the database's owner, or root, makes NAME a business manager
    acting as LOGIN; recorded in the audit trail as the operating-system login that did."""
    by = leavers.administrator(app.settings.database_url)
    login = _login(args.login)
    email = None if args.email is None else _email(args.email)
    with transaction(app.db()) as tx:
        try:
            user: users.UserRecord | None = users.named(tx, args.name)
        except NotFound:
            user = None
        if user is None:
            name = _name(args.name)
            if email is None:
                raise InvalidInput(f"--email: {name} is a new user: give their address")
            _unique(tx, own_id=None, name=name, email=email, login=login)
            done = users.add(tx, name=name, email=email, agency=None,
                             roles=[Role.BUSINESS_MANAGER], by=by, now=app.now(), login=login,
                             action="rescue")
        else:
            _unique(tx, own_id=user.id, email=email, login=login)
            old = user_entry(user)
            values: dict[str, Any] = {"login": login, "active": True}
            if email is not None:
                values["email"] = email
            roles = sorted({*user.roles, Role.BUSINESS_MANAGER})
            details = {k: {"old": old[k], "new": v} for k, v in values.items() if old[k] != v}
            if roles != sorted(user.roles):
                details["roles"] = {"old": sorted(user.roles), "new": roles}
            if not details:
                raise InvalidInput(f"{user.name} is an active business manager acting as "
                                   f"login {login} already")
            done = users.change(tx, user, by=by, now=app.now(), action="rescue",
                                values=values, roles=roles, details=details)
    return Output({**user_entry(done), "by": by},
                  f"{done.name} is a business manager acting on the command line as login "
                  f"{login} (recorded as done by {by})")


def users_list(app: App, args: Namespace) -> Output:
    with reading(app.db()) as tx:
        entries = [user_entry(u) for u in users.every(tx)]
    text = table(["name", "email", "roles", "agency", "login", "active"],
                 [[e["name"], e["email"], ", ".join(e["roles"]), e["agency"], e["login"],
                   "yes" if e["active"] else "no"] for e in entries])
    return Output(entries, text)


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """`users add`, `change`, `deactivate`, `reactivate`, `rescue` and `list`."""
    from scr.lifecycle.cli.main import add_json_option

    roles_help = ", ".join(USER_ROLES[:-1]) + f" or {USER_ROLES[-1]}"
    group = command("users", "the board's people: add, change, deactivate and list users")
    sub = group.add_subparsers(dest="users_command", metavar="ACTION", parser_class=type(group))
    add = sub.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--email", required=True)
    add.add_argument("--role", action="append", metavar="ROLE",
                     help=f"{roles_help}; repeat for several")
    add.add_argument("--login", metavar="LOGIN",
                     help="the operating-system login this user runs scr as (a live board's "
                     "command line acts as the login that runs it: SECURITY.md); the very "
                     "first user of a live board, added without it, acts as the login that "
                     "adds them")
    add.add_argument("--agency", help="the user's agency (required for agency_lead; for a "
                     "safeguarding_partner, the partner: " + ", ".join(PARTNERS) + ")")
    add_json_option(add)
    add.set_defaults(func=users_add)

    change = sub.add_parser("change", help="change a user's name, address, roles, agency or "
                            "login (business manager; each change in the users' audit trail)")
    change.add_argument("name", metavar="NAME")
    change.add_argument("--name", dest="new_name", metavar="NEW",
                        help="their new name (refused while an open case names them as its "
                        "lead reviewer or an action's owner)")
    change.add_argument("--email")
    change.add_argument("--role", action="append", metavar="ROLE",
                        help=f"every role they hold from now ({roles_help}); repeat for "
                        "several")
    change.add_argument("--add-role", action="append", metavar="ROLE", help="a role to add")
    change.add_argument("--remove-role", action="append", metavar="ROLE",
                        help="a role to take away")
    agency = change.add_mutually_exclusive_group()
    agency.add_argument("--agency")
    agency.add_argument("--no-agency", action="store_true", help="no agency")
    login = change.add_mutually_exclusive_group()
    login.add_argument("--login", metavar="LOGIN")
    login.add_argument("--no-login", action="store_true",
                       help="act on the command line as no login")
    add_json_option(change)
    change.set_defaults(func=users_change)

    off = sub.add_parser("deactivate", help="a leaver: they may no longer act or sign in, "
                         "their portal sessions end; lists what open cases ask of them")
    off.add_argument("name", metavar="NAME")
    off.add_argument("--reason", required=True, help="why (kept in the users' audit trail)")
    add_json_option(off)
    off.set_defaults(func=users_deactivate)
    on = sub.add_parser("reactivate", help="let a deactivated user act and sign in again")
    on.add_argument("name", metavar="NAME")
    add_json_option(on)
    on.set_defaults(func=users_reactivate)

    rescue = sub.add_parser("rescue", help="the server's administrator (the database file's "
                            "owner, or root) makes NAME a business manager acting as LOGIN, "
                            "when no business manager can act")
    rescue.add_argument("name", metavar="NAME")
    rescue.add_argument("--email", help="required when NAME is a new user")
    rescue.add_argument("--login", required=True, metavar="LOGIN")
    add_json_option(rescue)
    rescue.set_defaults(func=users_rescue)

    lst = sub.add_parser("list", help="list users, active and deactivated")
    add_json_option(lst)
    lst.set_defaults(func=users_list)
