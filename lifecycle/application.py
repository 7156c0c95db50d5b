"""The composition every front end stands on: the settings, the database, the process
definitions with the board's configuration, the engine, and the moment to act at. The
command line and the portal each make one and act through it; neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from scr.lifecycle.settings import Settings
from scr.states.errors import InvalidInput
from scr.states.registry import REGISTRY, Registry
from scr.storage.db import SCHEMA_HEAD, Database, make_engine, redact, schema_revision, sqlite_file

if TYPE_CHECKING:
    from scr.lifecycle.core.engine import Engine
    from scr.lifecycle.core.process import Processes


@dataclass
class Application:
    settings: Settings
    # The process definitions this board runs: the shipped ones, unless the front end that
    # composes the application gives others (a test's throwaway definitions). Everything
    # below reads them from here.
    registry: Registry = field(default=REGISTRY)
    _db: Database | None = field(default=None, init=False)
    _engine: Engine | None = field(default=None, init=False)
    _processes: Processes | None = field(default=None, init=False)

    @property
    def engine(self) -> Engine:
        """The lifecycle engine, built on first use (reading commands never need it)."""
        if self._engine is None:
            from scr.lifecycle.core.engine import Engine

            self._engine = Engine(self.settings.process, self.settings.board,
                                  check_snapshots=self.settings.check_snapshots,
                                  processes=self.processes)
        return self._engine

    @property
    def processes(self) -> Processes:
        """The process definitions, with the board's configuration bound to each (reading
        commands need no more; the engine shares them)."""
        if self._processes is None:
            from scr.lifecycle.core.process import Processes

            self._processes = Processes(self.settings.process, self.registry)
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

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None



def _require_sqlite_file(url: str) -> None:
    """Refuse to create an empty SQLite file as a side effect of a read or a typo."""
    file = sqlite_file(url)
    if file is not None and not file.exists():
        raise InvalidInput(f"no database at {file}: run scr init")
