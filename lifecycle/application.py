"""The application every front end stands on: the settings, the database, the process
definitions with the board's configuration, the engine and the moment to act at, and the
four things a person does with a case, each in one transaction and with a typed result:

- `open_record`: refer a case (or register a learning record) -> Opened;
- `fire`: fire a trigger -> Done (the engine's Fired: the case as written, the snapshots
  before and after, the pending timers; the case's document when asked for);
- `explain`: why a trigger may or may not be fired now, every check -> a `why` document;
- `read`: a case as one person may see it -> CaseRead (its document, its snapshot, and
  what that person may do next, judged on the same read);

and one thing a business manager does with many: `migrate`, moving running cases to a new
version of their process (lifecycle/core/migrating.py) -> Migrated.

Who acts is the front end's to say, as a function of the transaction (`ActorOf`): the
command line's login is looked up in the same transaction as the trigger, the portal's
person comes with their session. The command line and the portal each make one
Application and act through it; neither imports the other (tests/test_house.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scr.lifecycle.settings import Settings
from scr.states.case import Actor, CaseSnapshot
from scr.states.enums import Role
from scr.states.errors import InvalidInput, LifecycleError, NotFound, Refused
from scr.states.migration import Migration
from scr.states.registry import REGISTRY, Registry
from scr.storage.db import (
    SCHEMA_HEAD,
    Database,
    Tx,
    make_engine,
    reading,
    redact,
    schema_revision,
    sqlite_file,
    transaction,
)

if TYPE_CHECKING:
    from scr.lifecycle.core.correcting import Corrected
    from scr.lifecycle.core.engine import Engine, Fired
    from scr.lifecycle.core.judge import Judgement
    from scr.lifecycle.core.migrating import Migrator, Move, Stuck
    from scr.lifecycle.core.process import Process, Processes
    from scr.storage.cases import CaseRecord

# Who acts, found in the transaction the action runs in (None: nobody known, for a read).
ActorOf = Callable[[Tx], Actor | None]
# Whether the reader may see this case at all; a case they may not is not found.
Visible = Callable[[Tx, "CaseRecord"], bool]


@dataclass(frozen=True)
class Opened:
    case: CaseRecord
    document: dict[str, Any]


@dataclass(frozen=True)
class Done:
    fired: Fired
    document: dict[str, Any] | None  # when asked for: the case as the trigger left it


@dataclass(frozen=True)
class CaseRead:
    case: CaseRecord
    process: Process
    snapshot: CaseSnapshot
    document: dict[str, Any]  # with the free text the reader may read
    history: list[dict[str, Any]]  # when asked for, else empty
    verdicts: list[Judgement]  # when asked for: every trigger, judged for the reader now


@dataclass(frozen=True)
class Migrated:
    """What a migration did (or, dry, would do): the cases moved and those that could not
    be, each with why, in the order asked."""

    migration: Migration
    moved: list[Move]
    stuck: list[Stuck]
    dry_run: bool


@dataclass
class Application:
    settings: Settings
    # The process definitions this board runs: the shipped ones, unless the front end that
    # composes the application gives others (a test's throwaway definitions). Everything
    # below reads them from here.
    registry: Registry = field(default=REGISTRY)
    # The migrations between versions of them (states/migration.py): None, the shipped
    # processes' own.
    migrations: tuple[Migration, ...] | None = None
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

    # ------------------------------------------------------------ what people do
    def open_record(self, fields: Mapping[str, Any], *, actor: ActorOf,
                    process: str | None = None) -> Opened:
        """A new case from its referral (or a learning record) under `process` (the board's
        default when None), with its document as its opener may read it."""
        from scr.lifecycle.views import documents

        with transaction(self.db()) as tx:
            who = _required(actor(tx))
            case = self.engine.refer(tx, actor=who, params=fields, now=self.now(),
                                     process_name=process)
            return Opened(case, documents.case_document(tx, self.processes.of(case), case,
                                                        reader=None))

    def fire(self, ref: str, trigger: str, *, actor: ActorOf, params: Mapping[str, Any],
             reason: str | None = None, expect_version: int | None = None,
             document: bool = False) -> Done:
        """Fire `trigger` on case `ref` now; with `document`, the case's whole document as
        the trigger left it, read in the same transaction."""
        from scr.lifecycle.views import documents

        with transaction(self.db()) as tx:
            fired = self.engine.fire(tx, ref, trigger, actor=_required(actor(tx)),
                                     params=params, reason=reason, now=self.now(),
                                     expect_version=expect_version)
            doc = documents.case_document(tx, self.processes.of(fired.case), fired.case,
                                          reader=None) if document else None
        return Done(fired, doc)

    def explain(self, ref: str, trigger: str, *, actor: ActorOf, params: Mapping[str, str],
                reason: str | None = None) -> dict[str, Any]:
        """Every check `trigger` must pass on case `ref` now, and the verdict (the `why`
        document: lifecycle/views/why.py)."""
        from scr.lifecycle.views.why import explain

        with reading(self.db()) as tx:
            return explain(tx, self.processes, ref, trigger, actor=actor(tx), params=params,
                           reason=reason, now=self.now())

    def read(self, ref: str, *, reader: ActorOf, visible: Visible | None = None,
             history: bool = False, judged: bool = False) -> CaseRead:
        """Case `ref` as `reader` may see it, from one read of its facts: its document, its
        snapshot, its history (`history`) and every trigger judged for the reader now
        (`judged`). NotFound when there is no such case or `visible` says they may not see
        it."""
        from scr.lifecycle.core.judge import judge_all
        from scr.lifecycle.views import documents
        from scr.storage import cases, facts

        with reading(self.db()) as tx:
            who = reader(tx)
            case = cases.load(tx, ref)
            if visible is not None and not visible(tx, case):
                raise NotFound(f"no case {ref}")
            process = self.processes.of(case)
            whole = facts.whole(tx, case.id)
            snapshot = cases.snapshot_of(case, whole)
            doc = documents.case_document(tx, process, case, reader=who, whole=whole)
            entries = documents.history_document(tx, case) if history else []
        verdicts = judge_all(process, snapshot, actor=who, now=self.now()) if judged else []
        return CaseRead(case, process, snapshot, doc, entries, verdicts)

    def migrator(self, name: str, from_version: str, to_version: str) -> Migrator:
        """The declared migration of `name` between the two versions, with both processes
        and the board's configuration; bad input (exit 2) when either version is unknown or
        no migration is declared between them."""
        from scr.lifecycle.core.migrating import Migrator
        from scr.states import migration

        declared = migration.shipped() if self.migrations is None else self.migrations
        found, old, new = migration.find(declared, self.registry, name, from_version,
                                         to_version)
        return Migrator(found, self.processes.get(old.name, old.version),
                        self.processes.get(new.name, new.version), board=self.settings.board)

    def correct(self, ref: str, field: str, value: str, *, actor: ActorOf,
                reason: str | None) -> Corrected:
        """Correct what case `ref` records as `field` to `value`, with `reason`, on the
        record (lifecycle/core/correcting.py); a business manager's alone."""
        from scr.lifecycle.core.correcting import correct
        from scr.storage import cases

        with transaction(self.db()) as tx:
            who = _required(actor(tx))
            case = cases.load(tx, ref)
            return correct(tx, self.processes.of(case), ref, field, value, actor=who,
                           reason=reason, now=self.now(), board=self.settings.board)

    def migrate(self, name: str, from_version: str, to_version: str, refs: list[str], *,
                actor: ActorOf, dry_run: bool = False) -> Migrated:
        """Move cases `refs` (none: every case of the old version not in a final state) from
        `from_version` of process `name` to `to_version`, each in its own transaction; with
        `dry_run`, judge them and write nothing. A business manager's alone (refused, exit
        3). A reference unknown, or of another version, is bad input (exit 2) before any
        case moves."""
        from scr.lifecycle.core.migrating import Move, Stuck
        from scr.storage import cases

        migrator = self.migrator(name, from_version, to_version)
        now = self.now()
        old = migrator.old.definition
        with reading(self.db()) as tx:
            who = _required(actor(tx))
            if Role.BUSINESS_MANAGER not in who.roles:
                raise Refused(f"{who.name} may not move cases to another version of their "
                              "process: it needs business_manager")
            for ref in refs:
                case = cases.load(tx, ref)
                if (case.definition, case.definition_version) != old.key:
                    raise InvalidInput(f"{ref} runs under {case.definition} version "
                                       f"{case.definition_version}, not {old.name} version "
                                       f"{old.version}")
            chosen = list(dict.fromkeys(refs)) or migrator.candidates(tx)
            judged = [migrator.judge(tx, ref, now=now) for ref in chosen] if dry_run else []
        if not dry_run:
            judged = [self._move_one(migrator, ref, who, now) for ref in chosen]
        return Migrated(migrator.migration, [j for j in judged if isinstance(j, Move)],
                        [j for j in judged if isinstance(j, Stuck)], dry_run)

    def _move_one(self, migrator: Migrator, ref: str, who: Actor,
                  now: datetime) -> Move | Stuck:
        """One case moved in its own transaction; one that changed underneath (or fails as
        a person's input would) is rolled back and listed as stuck."""
        from scr.lifecycle.core.migrating import Stuck

        try:
            with transaction(self.db()) as tx:
                return migrator.move(tx, ref, actor=who, now=now)
        except LifecycleError as exc:
            return Stuck(ref, "", "", (str(exc),))

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None



def _required(actor: Actor | None) -> Actor:
    if actor is None:
        raise InvalidInput("no acting user")
    return actor


def _require_sqlite_file(url: str) -> None:
    """Refuse to create an empty SQLite file as a side effect of a read or a typo."""
    file = sqlite_file(url)
    if file is not None and not file.exists():
        raise InvalidInput(f"no database at {file}: run scr init")
