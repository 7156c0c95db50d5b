"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware moment stored in UTC and read back aware.

    SQLite keeps datetimes as naive text (12:00+01:00 would come back as 12:00), so values
    are converted to UTC before storing and UTC is re-attached on read. Naive values are
    refused: nothing below the command line may guess a time zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"a timezone-aware datetime is required, got {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Any:
        """SQLAlchemy's own processor; on SQLite, the same text made in one step (this is
        on the hot path: a trigger binds some twenty moments). The fast form is checked
        against the standard one when it is made, and used only if they agree."""
        standard = super().bind_processor(dialect)
        if dialect.name != "sqlite" or standard is None:
            return standard

        def fast(value: Any) -> str | None:
            if value is None:
                return None
            if type(value) is not datetime or value.tzinfo is None:
                return standard(value)  # refused (or converted) the standard way
            if value.tzinfo is not UTC:
                value = value.astimezone(UTC)
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")

        samples = [datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
                   datetime(1999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
                   datetime(2027, 7, 1, 12, 0, 59, 999999).astimezone()]
        return fast if all(fast(v) == standard(v) for v in samples) else standard

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Document(TypeDecorator[Any]):
    """A JSON document column: JSON on SQLite, JSONB on PostgreSQL (stored parsed, so it
    can be indexed and queried by key there).

    A type decorator rather than `JSON().with_variant(JSONB(), "postgresql")`: the variant
    needs the PostgreSQL dialect's package imported to declare the table, 70 ms of every
    `scr` command on SQLite; here it is imported when a PostgreSQL database is used."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


def document() -> Document:
    """The type of a JSON document column (Document)."""
    return Document()
