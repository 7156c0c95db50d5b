"""What every command needs: the settings, the database, the engine, the actor and `now`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from lifecycle.settings import Settings
from states.case import Actor
from states.errors import InvalidInput, Refused
from storage import queries
from storage.db import make_engine, redact

if TYPE_CHECKING:
    from lifecycle.engine import Engine


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
            from lifecycle.engine import Engine

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
                with Session(self._db) as session:
                    revision = queries.schema_revision(session)
                if revision is None:
                    raise InvalidInput(f"the database {redact(url)} is not initialised: run "
                                       "scr init")
                if revision != queries.SCHEMA_HEAD:
                    raise InvalidInput(f"the database schema is at {revision}, this scr needs "
                                       f"{queries.SCHEMA_HEAD}: run scr init to upgrade")
        return self._db

    def actor(self, session: Session, *, required: bool = True) -> Actor | None:
        """The acting user (--as / SCR_ACTOR) with their roles; None if optional and unset."""
        name = self.settings.actor
        if not name:
            if required:
                raise InvalidInput("no acting user: give --as NAME or set SCR_ACTOR")
            return None
        user = queries.user_by_name(session, name)
        if not user.active:
            raise Refused(f"user {name} is deactivated")
        assert user.id is not None
        roles = frozenset(queries.roles_of(session, user.id))
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
