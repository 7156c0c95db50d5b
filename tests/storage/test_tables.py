"""storage.tables (Core, for the paths that skip the ORM) is the schema of storage.models,
column for column."""

from __future__ import annotations

import pytest
from sqlmodel import SQLModel

import storage.models  # noqa: F401 (declares the tables on SQLModel.metadata)
from storage import tables


def _shape(table) -> list[tuple[object, ...]]:
    """What a query depends on: each column's name, type, length, nullability and keys."""
    def kind(column) -> str:
        name = type(column.type).__name__
        return "String" if name == "AutoString" else name

    return [(c.key, kind(c), getattr(c.type, "length", None), c.nullable, c.primary_key,
             sorted((f.target_fullname, f.ondelete) for f in c.foreign_keys))
            for c in table.columns]


def test_the_same_tables():
    assert set(tables.metadata.tables) == set(SQLModel.metadata.tables)


@pytest.mark.parametrize("name", sorted(SQLModel.metadata.tables))
def test_the_same_columns(name):
    assert _shape(tables.metadata.tables[name]) == _shape(SQLModel.metadata.tables[name])
