"""What every command needs: the application (settings, database, engine, `now`) and who
acts, which on the command line is the operating-system login that runs it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from scr.lifecycle.application import Application
from scr.states.case import Actor
from scr.states.enums import Role
from scr.states.errors import InvalidInput, Refused
from scr.storage import users
from scr.storage.db import Tx


@dataclass(frozen=True)
class Output:
    """A command's result: `data` for --json, `text` for people."""

    data: Any
    text: str


@dataclass
class App(Application):
    """The command line's: who acts is the login that runs the command (SECURITY.md)."""

    def actor(self, tx: Tx, *, required: bool = True,
              named: str | None = None) -> Actor | None:
        """Who acts, with their roles; None if optional and nobody is known.

        On a live board, the user whose login runs the command (SECURITY.md); --as NAME
        (or SCR_ACTOR) is a business manager recording a decision NAME made, acting with
        NAME's roles and kept as both names. In training mode --as names who acts. `named`
        asks about another name than --as gives (the shell's `as NAME`)."""
        named = named or self.settings.actor
        if self.settings.training:
            if not named:
                if required:
                    raise InvalidInput("no acting user: give --as NAME or set SCR_ACTOR")
                return None
            return _actor(users.named(tx, named))
        login = login_name()
        user = users.by_login(tx, login)
        if user is None:
            if required or named:
                raise Refused(f"the login {login} is no scr user's: a business manager adds "
                              f"it with scr users add NAME ... --login {login}")
            return None
        me = _actor(user)
        if not named or named == user.name:
            return me
        if Role.BUSINESS_MANAGER not in me.roles:
            raise Refused(f"{user.name} may not act on someone's behalf (--as): only a "
                          "business manager records a decision another person made")
        behalf = _actor(users.named(tx, named))
        return Actor(behalf.name, behalf.roles, behalf.agency, recorded_by=user.name)


def _actor(user: users.UserRecord) -> Actor:
    if not user.active:
        raise Refused(f"user {user.name} is deactivated")
    return Actor(user.name, frozenset(user.roles), user.agency)


def login_name() -> str:
    """The person running this command: the login that ran sudo when scr runs as the
    service account through it (sudo sets SUDO_USER itself), else the process's own
    account, read from the system rather than from LOGNAME or USER, which anyone sets."""
    import pwd

    own = pwd.getpwuid(os.geteuid()).pw_name
    via_sudo = os.environ.get("SUDO_USER")
    return via_sudo if via_sudo and via_sudo != "root" else own
