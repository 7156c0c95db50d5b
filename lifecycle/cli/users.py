"""`scr users add` and `scr users list`: the board's people."""

from __future__ import annotations

import argparse
import re
from argparse import Namespace
from collections.abc import Callable

from scr.lifecycle.cli.app import App, Output, login_name
from scr.lifecycle.core import people
from scr.lifecycle.views.documents import user_entry
from scr.lifecycle.views.text import table
from scr.states.enums import PARTNERS, USER_ROLES, Role
from scr.states.errors import InvalidInput, Refused
from scr.states.params import clean_text
from scr.storage import users
from scr.storage.db import Tx, reading, transaction

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")


def users_add(app: App, args: Namespace) -> Output:
    name = clean_text(args.name, "name", 100)
    if not name or "," in name:
        raise InvalidInput("name: must be non-empty text without commas")
    name = " ".join(name.split())
    if people.reserved(name):
        raise InvalidInput(f"name: {name!r} is a name scr uses for itself (system, scr, "
                           "os:...)")
    login = args.login
    if login is not None and not people.LOGIN.match(login):
        raise InvalidInput(f"--login: not an operating-system login: {login[:40]!r}")
    email = args.email.strip()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput(f"email: not an e-mail address: {email[:60]!r}")
    roles = list(dict.fromkeys(args.role or []))
    if not roles:
        raise InvalidInput("give at least one --role")
    for role in roles:
        if role not in USER_ROLES:
            raise InvalidInput(f"unknown role {role!r} (one of {', '.join(USER_ROLES)})")
    agency = args.agency
    partner = Role.SAFEGUARDING_PARTNER in roles
    if partner and agency not in PARTNERS:
        raise InvalidInput(f"a safeguarding_partner needs --agency, the partner they are: one "
                           f"of {', '.join(PARTNERS)}")
    if agency is not None and agency not in (*app.settings.process.agencies, *PARTNERS):
        raise InvalidInput(f"unknown agency {agency!r}")
    if Role.AGENCY_LEAD in roles and agency not in app.settings.process.agencies:
        raise InvalidInput("an agency_lead needs --agency, one of the board's agencies")
    with transaction(app.db()) as tx:
        by = _user_admin(app, tx)
        for other in users.every(tx):
            if other.name == name:
                raise InvalidInput(f"user {name!r} already exists")
            if people.looks_like(name, other.name):
                raise InvalidInput(f"name: {name!r} looks like the existing user "
                                   f"{other.name!r} (names that differ only in case, spacing "
                                   "or look-alike letters would be mistaken in history and "
                                   "e-mail)")
            if login is not None and other.login == login:
                raise InvalidInput(f"--login: {login} is already {other.name}'s")
        user = users.add(tx, name=name, email=email, agency=agency, roles=roles, by=by,
                         now=app.now(), login=login)
    return Output(user_entry(user), f"added {name} <{email}> as {', '.join(roles)}"
                  + (f" ({agency})" if agency else "")
                  + (f", acting on the command line as login {login}" if login else ""))


def _user_admin(app: App, tx: Tx) -> str:
    """Who is changing users: a business manager (the login's user; in training mode, the
    one --as names). Only the very first user may be added without one (nobody exists yet
    to name), and is recorded as added by the operating-system login."""
    actor = app.actor(tx, required=False)
    if actor is None:
        if users.every(tx):
            raise Refused("only the very first user may be added without a business "
                          "manager" + (" (give --as NAME)" if app.settings.training else
                                       f": the login {login_name()} is no user's"))
        return f"os:{login_name()}"
    if actor.recorded_by is not None:
        raise Refused("users are added by a business manager in their own name, not on "
                      "someone's behalf (--as)")
    if Role.BUSINESS_MANAGER not in actor.roles:
        raise Refused(f"{actor.name} may not change users: it needs business_manager")
    return actor.name


def users_list(app: App, args: Namespace) -> Output:
    with reading(app.db()) as tx:
        entries = [user_entry(u) for u in users.every(tx)]
    text = table(["name", "email", "roles", "agency", "login", "active"],
                 [[e["name"], e["email"], ", ".join(e["roles"]), e["agency"], e["login"],
                   "yes" if e["active"] else "no"] for e in entries])
    return Output(entries, text)


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """`users add` and `users list`."""
    from scr.lifecycle.cli.main import add_json_option

    group = command("users", "add and list users")
    sub = group.add_subparsers(dest="users_command", metavar="ACTION", parser_class=type(group))
    add = sub.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--email", required=True)
    add.add_argument("--role", action="append", metavar="ROLE",
                     help=", ".join(USER_ROLES[:-1]) + f" or {USER_ROLES[-1]}; repeat for "
                     "several")
    add.add_argument("--login", metavar="LOGIN",
                     help="the operating-system login this user runs scr as (a live board's "
                     "command line acts as the login that runs it: SECURITY.md)")
    add.add_argument("--agency", help="the user's agency (required for agency_lead; for a "
                     "safeguarding_partner, the partner: " + ", ".join(PARTNERS) + ")")
    add_json_option(add)
    add.set_defaults(func=users_add)
    lst = sub.add_parser("list", help="list users")
    add_json_option(lst)
    lst.set_defaults(func=users_list)
