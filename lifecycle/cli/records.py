"""The database and keeping it safe: `scr init`, `scr backup FILE`, `scr restore FILE`
(`scr audit` is lifecycle/cli/audit.py).

Backups use SQLite's online backup (a consistent copy
while others read and write); PostgreSQL boards use pg_dump and pg_restore (SECURITY.md).
"""

from __future__ import annotations

import argparse
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scr.lifecycle.cli.app import App, Output, login_name
from scr.lifecycle.cli.audit import ChainBroken
from scr.states.enums import Role
from scr.states.errors import InvalidInput, LifecycleError, Refused
from scr.storage import backup as backups
from scr.storage import history, ledger, users
from scr.storage.db import (
    SCHEMA_HEAD,
    check_intact,
    make_engine,
    new_private_file,
    reading,
    redact,
    remove_sqlite_file,
    schema_revision,
    sqlite_file,
    transaction,
)


def init(app: App, args: Namespace) -> Output:
    """Create the database (a new SQLite file is its owner's alone, 0600) or check the one
    there (SQLite's quick check: a damaged file is reported, not upgraded), then bring it to
    the latest schema. A new file is removed again if this fails."""
    file = sqlite_file(app.settings.database_url)
    made = file if file is not None and not file.exists() else None
    if made is not None:
        new_private_file(made)
    try:
        return _initialise(app, file, check=made is None)
    except BaseException:
        if made is not None:
            app.close()
            remove_sqlite_file(made)
        raise


def _initialise(app: App, file: Path | None, *, check: bool) -> Output:
    from scr.storage import migrate  # Alembic is slow to import; only init needs it

    db = app.db(creating=True)
    if check:
        check_intact(db)
    migrate.upgrade(db)
    revision = migrate.current(db)
    url = redact(app.settings.database_url)
    sealed = _seal_users(app, db)
    note = "; sealed the users in their audit trail" if sealed else ""
    if file is not None:  # a history without its append-only triggers gets them back
        made = backups.put_back_triggers(file)
        if made:
            return Output({"database": url, "revision": revision, "triggers_restored": made},
                          f"database {url} is at schema revision {revision} (the latest); "
                          f"put back the missing append-only triggers: {', '.join(made)}"
                          + note)
    return Output({"database": url, "revision": revision},
                  f"database {url} is at schema revision {revision} (the latest){note}")


def _seal_users(app: App, db: Any) -> bool:
    """Users added before their audit trail was chained are sealed (storage.ledger)."""
    with transaction(db) as tx:
        return ledger.seal_existing(tx, at=app.now(), actor=f"os:{login_name()}")


def _sqlite_path(app: App) -> Path:
    file = sqlite_file(app.settings.database_url)
    if file is None:
        raise InvalidInput("backup and restore work on SQLite; for PostgreSQL use pg_dump -Fc "
                           "and pg_restore (see SECURITY.md)")
    return file


def _allowed(app: App, roles: set[str], what: str) -> None:
    """The acting user (--as) must hold one of `roles`. Without --as only a database with no
    users at all may be worked on (a restore onto a new installation, before anyone is
    there to name)."""
    with reading(app.db()) as tx:
        actor = app.actor(tx, required=False)
        nobody = actor is None and not users.every(tx)
    needed = " or ".join(sorted(roles))
    if actor is None:
        if nobody:
            return
        raise Refused(f"give --as NAME: to {what} needs {needed}")
    if not actor.roles & roles:
        raise Refused(f"{actor.name} may not {what}: it needs {needed}")


def backup(app: App, args: Namespace) -> Output:
    _allowed(app, {Role.BUSINESS_MANAGER, Role.AUDITOR}, "take a backup")
    source = _sqlite_path(app)
    target = Path(args.file)
    if target.exists():
        raise InvalidInput(f"{target} exists: choose a new file for the backup")
    app.db()  # the schema is checked before copying
    # A new file of the owner's alone (0600), checked once written; nothing left on failure.
    cases = backups.write_backup(source, target)
    return Output({"file": str(target), "cases": cases},
                  f"backup of {cases} cases written to {target}")


def restore(app: App, args: Namespace) -> Output:
    """Put a backup in place of the board's SQLite database, once it is known sound: SQLite's
    integrity check, an scr schema, a history chain that verifies, and the append-only
    triggers (put back if the copy lacks them). The backup is copied beside the database and
    checked there; the database it replaces is kept beside it. Refused while a daemon holds
    the database."""
    from scr.lifecycle.runtime.daemon import single_daemon

    _allowed(app, {Role.BUSINESS_MANAGER}, "restore a backup")
    target = _sqlite_path(app)
    source = Path(args.file)
    if not source.is_file():
        raise InvalidInput(f"no backup file at {source}")
    problem = backups.integrity_problem(source)
    if problem is not None:
        raise InvalidInput(f"{source} fails SQLite's integrity check ({problem[:200]}); "
                           "not restored")
    staged = target.with_name(f"{target.name}.restoring")
    staged.unlink(missing_ok=True)
    try:
        backups.copy(source, staged)
        backups.put_back_triggers(staged)
        revision, cases, rows = _checked(staged, source)
        app.close()
        with single_daemon(app.settings.database_url):
            kept = backups.replace_database(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return Output({"file": str(source), "cases": cases, "rows": rows, "revision": revision,
                   "replaced": str(kept)},
                  f"restored {cases} cases ({rows} history rows, chain verified) from {source}; "
                  f"the database it replaced is kept as {kept}"
                  + ("" if revision == SCHEMA_HEAD else
                     f"; brought from schema {revision} to {SCHEMA_HEAD}"))


def _checked(staged: Path, source: Path) -> tuple[str, int, int]:
    """The staged copy's schema revision, cases and history rows, its chains and seals
    verified. A copy from an older scr is brought to this one's schema first (it is a
    copy: the backup itself is not touched)."""
    from scr.storage import migrate

    engine = make_engine(f"sqlite:///{staged}")
    try:
        with reading(engine) as tx:
            revision = schema_revision(tx)
        if revision is None:
            raise InvalidInput(f"{source} is not an scr database")
        if revision > SCHEMA_HEAD:
            raise InvalidInput(f"{source} is at schema {revision}, newer than this scr "
                               f"({SCHEMA_HEAD}): upgrade scr first")
        if revision != SCHEMA_HEAD:
            migrate.upgrade(engine)
        with reading(engine) as tx:
            walk = history.verify(tx)
            cases, rows = walk.cases, walk.rows
            _lines, users_broken = ledger.verify(tx)
            breaks = [*walk.breaks, *([users_broken] if users_broken else [])]
            broken = breaks[0] if breaks else None
    except LifecycleError:
        raise
    except Exception:
        raise InvalidInput(f"{source} is not a readable scr database") from None
    finally:
        engine.dispose()
    if broken is not None:
        raise ChainBroken(f"the backup's record does not verify: {broken}; not restored")
    return revision, cases, rows


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Init, backup and restore."""
    command("init", "create or upgrade the database to the latest schema").set_defaults(
        func=init)
    take = command("backup", "write a consistent copy of the SQLite database to FILE")
    take.add_argument("file")
    take.set_defaults(func=backup)
    back = command("restore", "replace the SQLite database with a verified backup FILE")
    back.add_argument("file")
    # Not inside the shell: it would replace the database under the shell's open connection.
    back.set_defaults(func=restore, in_shell=False)


