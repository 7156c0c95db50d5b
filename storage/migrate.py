"""Schema migrations with Alembic, on SQLite and PostgreSQL (`scr init`).

A new migration is written by Alembic from the difference between storage/models.py and a
scratch database at the latest revision (`make migration MESSAGE="..."`):

    python -m storage.migrate new "cases record their process definition"

Read what it wrote before committing it: autogenerate cannot know how to fill a new
NOT NULL column in rows that exist already.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (the latest by default); safe to run again."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, command.downgrade, revision)


def _run(engine: Engine, step: Any, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # SQLite's batch migrations copy and drop tables; with foreign keys on, dropping
            # `cases` would cascade into history. The pragma only works outside a
            # transaction, so it is set on the raw connection before SQLAlchemy begins one.
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                step(cfg, revision)
        finally:
            if engine.dialect.name == "sqlite":
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    head_rev = ScriptDirectory.from_config(_bare_config()).get_current_head()
    assert head_rev is not None
    return head_rev


def _bare_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def new_revision(message: str) -> Path:
    """Autogenerate the next migration (numbered after the head) from the models."""
    from scr.storage.db import make_engine

    number = f"{int(head()) + 1:04d}"
    with tempfile.TemporaryDirectory(prefix="scr-migration-") as folder:
        engine = make_engine(f"sqlite:///{folder}/scratch.db")
        try:
            upgrade(engine)
            cfg = alembic_config(engine)
            with engine.connect() as conn:
                cfg.attributes["connection"] = conn
                script = command.revision(cfg, message=message, autogenerate=True,
                                          rev_id=number)
        finally:
            engine.dispose()
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "new":
        sys.exit('usage: python -m storage.migrate new "what the migration does"')
    print(f"wrote {new_revision(sys.argv[2])}")
