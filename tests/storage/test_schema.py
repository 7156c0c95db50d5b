"""The schema is declared once: storage/tables.py is what `make schema` writes from the
models, and the migrations build exactly the tables the models declare, on both databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import scr.storage.models  # noqa: F401 (declares the tables on SQLModel.metadata)
from scr.storage import migrate, schema, tables
from scr.storage.db import make_engine


def test_the_committed_tables_are_what_the_generator_writes():
    """A model changed without `make schema` fails here."""
    assert Path(schema.TARGET).read_text(encoding="utf-8") == schema.render()


def test_the_check_mode_sees_a_stale_file(tmp_path, monkeypatch):
    """`python -m storage.schema --check` exits 1 on a file that differs, 0 on a fresh one."""
    stale = tmp_path / "tables.py"
    stale.write_text(schema.render() + "\n# edited by hand\n", encoding="utf-8")
    monkeypatch.setattr(schema, "TARGET", stale)
    assert schema.main(["--check"]) == 1
    assert schema.main([]) == 0
    assert schema.main(["--check"]) == 0


def test_the_generated_tables_have_the_models_columns():
    """Column for column: name, type, length, nullability and keys."""
    def shape(table) -> list[tuple[object, ...]]:
        def kind(column) -> str:
            name = type(column.type).__name__
            return "String" if name == "AutoString" else name

        return [(c.key, kind(c), getattr(c.type, "length", None), c.nullable, c.primary_key,
                 sorted((f.target_fullname, f.ondelete) for f in c.foreign_keys))
                for c in table.columns]

    assert set(tables.metadata.tables) == set(SQLModel.metadata.tables)
    for name, table in SQLModel.metadata.tables.items():
        assert shape(tables.metadata.tables[name]) == shape(table), name


def test_the_case_record_has_the_case_columns_in_order():
    assert tuple(c.key for c in tables.CASES.columns) == tables.CASES_FIELDS


def test_the_migrations_build_what_the_models_declare(db):
    """Alembic finds nothing to change between the migrated database and the models."""
    with db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_cases_stored_before_0004_started_under_scr(sqlite_url):
    """The definition column is filled for cases that exist when it is added."""
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine, "0003")
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO cases (ref, pseudonym, state, version, definition_version, flags, "
            "round, referred_at, state_entered_at, updated_at) VALUES ('CR-2019-0001', "
            "'Child A', 'review', 3, '1', '[]', 1, '2019-01-01 09:00:00.000000', "
            "'2019-02-01 09:00:00.000000', '2019-02-01 09:00:00.000000')")
    migrate.upgrade(engine)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT definition, definition_version FROM cases").fetchall() \
            == [("scr", "1")]
    engine.dispose()
