"""What every command needs: the settings, the database, the engine, the actor and `now`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lifecycle.settings import Settings
from states.case import Actor
from states.enums import Role
from states.errors import InvalidInput, Refused
from storage import users
from storage.db import SCHEMA_HEAD, Database, Tx, make_engine, redact, schema_revision, sqlite_file

if TYPE_CHECKING:
    from lifecycle.core.engine import Engine
    from lifecycle.core.process import Processes


@dataclass(frozen=True)
class Output:
    """A command's result: `data` for --json, `text` for people."""

    data: Any
    text: str


@dataclass
class App:
    settings: Settings
    _db: Database | None = field(default=None, init=False)
    _engine: Engine | None = field(default=None, init=False)
    _processes: Processes | None = field(default=None, init=False)

    @property
    def engine(self) -> Engine:
        """The lifecycle engine, built on first use (reading commands never need it)."""
        if self._engine is None:
            from lifecycle.core.engine import Engine

            self._engine = Engine(self.settings.process, self.settings.board,
                                  check_snapshots=self.settings.check_snapshots,
                                  processes=self.processes)
        return self._engine

    @property
    def processes(self) -> Processes:
        """The process definitions, with the board's configuration bound to each (reading
        commands need no more; the engine shares them)."""
        if self._processes is None:
            from lifecycle.core.process import Processes

            self._processes = Processes(self.settings.process)
        return self._processes

    def now(self) -> datetime:
        return self.settings.clock()

    def db(self, *, creating: bool = False) -> Database:
        """The database engine; outside `scr init` the schema must be there and current."""
        if self._db is None:
            url = self.settings.database_url
            if not creating:
                _require_sqlite_file(url)
            self._db = make_engine(url)
            if not creating:
                with self._db.connect() as connection:
                    revision = schema_revision(connection)
                if revision is None:
                    raise InvalidInput(f"the database {redact(url)} is not initialised: run "
                                       "scr init")
                if revision != SCHEMA_HEAD:
                    raise InvalidInput(f"the database schema is at {revision}, this scr needs "
                                       f"{SCHEMA_HEAD}: run scr init to upgrade")
        return self._db

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

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


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


def _require_sqlite_file(url: str) -> None:
    """Refuse to create an empty SQLite file as a side effect of a read or a typo."""
    file = sqlite_file(url)
    if file is not None and not file.exists():
        raise InvalidInput(f"no database at {file}: run scr init")
