"""What every command needs: the settings, the database, the engine, the actor and `now`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine import Engine as DbEngine

from lifecycle.settings import Settings
from states.case import Actor
from states.errors import InvalidInput, NotFound, Refused
from storage.db import SCHEMA_HEAD, make_engine, redact, schema_revision
from storage.tables import USER_ROLES, USERS

if TYPE_CHECKING:
    from sqlmodel import Session

    from lifecycle.core.engine import Engine

# Core statements, so that commands which only read never import the ORM (storage.tables).
_USER = select(USERS.c.id, USERS.c.name, USERS.c.agency, USERS.c.active).where(
    USERS.c.name == bindparam("name"))
_ROLES = select(USER_ROLES.c.role).where(USER_ROLES.c.user_id == bindparam("user_id")).order_by(
    USER_ROLES.c.role)


@dataclass(frozen=True)
class Output:
    """A command's result: `data` for --json, `text` for people."""

    data: Any
    text: str


@dataclass
class App:
    settings: Settings
    _db: DbEngine | None = field(default=None, init=False)
    _engine: Engine | None = field(default=None, init=False)

    @property
    def engine(self) -> Engine:
        """The lifecycle engine, built on first use (reading commands never need it)."""
        if self._engine is None:
            from lifecycle.core.engine import Engine

            self._engine = Engine(self.settings.process, self.settings.board,
                                  check_views=self.settings.check_views)
        return self._engine

    def now(self) -> datetime:
        return self.settings.clock()

    def db(self, *, creating: bool = False) -> DbEngine:
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

    def actor(self, session: Session | Connection, *, required: bool = True) -> Actor | None:
        """The acting user (--as / SCR_ACTOR) with their roles; None if optional and unset."""
        name = self.settings.actor
        if not name:
            if required:
                raise InvalidInput("no acting user: give --as NAME or set SCR_ACTOR")
            return None
        user = session.execute(_USER, {"name": name}).first()
        if user is None:
            raise NotFound(f"unknown user {name!r}")
        if not user.active:
            raise Refused(f"user {name} is deactivated")
        roles = frozenset(session.execute(_ROLES, {"user_id": user.id}).scalars())
        return Actor(user.name, roles, user.agency)

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


def _require_sqlite_file(url: str) -> None:
    """Refuse to create an empty SQLite file as a side effect of a read or a typo."""
    try:
        parsed = make_url(url)
    except Exception:
        return  # make_engine reports the bad URL
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).exists():
        raise InvalidInput(f"no database at {parsed.database}: run scr init")
