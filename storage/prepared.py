"""Statements run on the driver's own cursor, inside the connection's transaction.

A trigger runs a dozen statements. Through SQLAlchemy's execution path each costs 20 to
80 µs of Python before the database sees it; on the driver's cursor it costs 3 to 10 µs.
So the statements of the hot path (the case row, its snapshot, timers, history, the
case's facts and the outbox) are `Prepared`:

- each is still written with SQLAlchemy Core against the tables (storage.tables), and
  compiled once per dialect, so the SQL is the same that SQLAlchemy itself would send;
- values go in and come out through the column types' own bind and result processors
  (those of the dialect's implementation of each type), so a row written here is stored
  exactly as SQLAlchemy (and its ORM) would store it, and reads back the same;
- statements run on the cursor of the DB-API connection under the SQLAlchemy connection
  they are given, so they share its transaction: they commit or roll back with the rest;
- a driver error is raised as SQLAlchemy's own exception (IntegrityError,
  OperationalError), as the rest of the code expects;
- SQLAlchemy's `before_cursor_execute` and `after_cursor_execute` listeners are told of
  each, so a statement count or an SQL log sees everything.

Only storage/ uses this module: the rest of the code calls storage's verbs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, exc, insert, literal, null
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None
_MISSING = object()


class Processed:
    """A value already through its bind processor (Prepared.processed): bound as it is.
    For a large value shared by many rows of one statement, processed once."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Compiled:
    __slots__ = ("binds", "dbapi_error", "fetch", "names", "positional", "processed",
                 "results", "results_processed", "sql")

    def __init__(self, stmt: ClauseElement, columns: Sequence[Any], dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, stmt.compile(dialect=dialect))
        self.sql = compiled.string
        self.positional = compiled.positional
        names = compiled.positiontup if compiled.positional else list(compiled.binds)
        # (name, processor, whether the processor must see None, the value bound in the
        # statement itself or else _MISSING: a value the caller must give)
        self.binds: list[tuple[str, Processor, bool, Any]] = []
        for name in names or ():
            bind = compiled.binds[name]
            if bind.expanding:  # IN (...) of a list is filled in per execution
                raise ValueError(f"{name}: a prepared statement cannot expand a list")
            fixed = _MISSING if bind.callable is None and bind.value is None \
                else bind.effective_value
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            # Most processors turn None into None and may be skipped for it; JSON's turns
            # it into the text 'null', and is not.
            sees_none = process is not None and process(None) is not None
            self.binds.append((name, process, sees_none, fixed))
        self.results: list[Processor] = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ]
        self.dbapi_error = dialect.loaded_dbapi.Error
        # The same, laid out for speed: what to fetch from the caller's values, and which
        # positions a processor converts (the statements run a dozen times per trigger).
        self.names = tuple(b[0] for b in self.binds)
        self.fetch = tuple((name, fixed) for name, _, _, fixed in self.binds)
        # (position, processor, what it makes of None: computed once, as for JSON's 'null';
        # _MISSING where None passes through unprocessed)
        self.processed = tuple((i, process, process(None) if sees_none else _MISSING)
                               for i, (_, process, sees_none, _) in enumerate(self.binds)
                               if process is not None)
        self.results_processed = tuple((i, p) for i, p in enumerate(self.results)
                                       if p is not None)

    def args(self, params: Mapping[str, Any]) -> Any:
        try:
            values = [params[name] if fixed is _MISSING else params.get(name, fixed)
                      for name, fixed in self.fetch]
        except KeyError as missing:
            raise KeyError(f"no value for :{missing.args[0]} in {self.sql[:60]!r}") from None
        for i, process, none_as in self.processed:
            value = values[i]
            if value is None:
                if none_as is not _MISSING:
                    values[i] = none_as
            elif type(value) is Processed:
                values[i] = value.value
            else:
                values[i] = process(value)
        if self.positional:
            return tuple(values)
        return dict(zip(self.names, values, strict=True))

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        if not self.results_processed:
            return tuple(raw)
        values = list(raw)
        for i, process in self.results_processed:
            value = values[i]
            if value is not None:
                values[i] = process(value)
        return tuple(values)


class Prepared:
    """One Core statement, compiled once per dialect and run on the driver's cursor."""

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt
        self.columns = list(getattr(stmt, "exported_columns", ()) or ())
        # By dialect and driver (their class) and parameter style: what the SQL depends on.
        self._compiled: dict[tuple[type, str], _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        key = (type(dialect), dialect.paramstyle)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.stmt, self.columns, dialect)
        return compiled

    def processed(self, tx: Connection, name: str, value: Any) -> Processed:
        """`value` through the bind processor of parameter `name`, to bind as it is."""
        compiled = self._for(tx.dialect)
        found = next(b for b in compiled.binds if b[0] == name)
        process, sees_none = found[1], found[2]
        if process is None or (value is None and not sees_none):
            return Processed(value)
        return Processed(process(value))

    def all(self, tx: Connection, params: Mapping[str, Any] | None = None
            ) -> list[tuple[Any, ...]]:
        """Every row the statement returns, each a tuple of its columns in order."""
        cursor, compiled = self._run(tx, params or {})
        try:
            return [compiled.row(r) for r in cursor.fetchall()] if self.columns else []
        finally:
            cursor.close()

    def one(self, tx: Connection, params: Mapping[str, Any] | None = None
            ) -> tuple[Any, ...] | None:
        """The first row, or None."""
        rows = self.all(tx, params)
        return rows[0] if rows else None

    def run(self, tx: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""
        cursor, _ = self._run(tx, params or {})
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def run_many(self, tx: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
        """Run the statement once for each of `rows` (one round trip where the driver can)."""
        compiled, connection = self._setup(tx)
        args = [compiled.args(r) for r in rows]
        if not args:
            return
        cursor = connection.cursor()
        _before(tx, cursor, compiled.sql, args, many=True)
        try:
            cursor.executemany(compiled.sql, args)
        except compiled.dbapi_error as error:
            raise _wrapped(compiled, args, error) from error
        finally:
            cursor.close()
        _after(tx, cursor, compiled.sql, args, many=True)

    def _setup(self, tx: Connection) -> tuple[_Compiled, Any]:
        return self._for(tx.dialect), tx.connection.driver_connection

    def _run(self, tx: Connection, params: Mapping[str, Any]
             ) -> tuple[Any, _Compiled]:
        compiled, connection = self._setup(tx)
        args = compiled.args(params)
        cursor = connection.cursor()
        _before(tx, cursor, compiled.sql, args, many=False)
        try:
            cursor.execute(compiled.sql, args)
        except compiled.dbapi_error as error:
            cursor.close()
            raise _wrapped(compiled, args, error) from error
        _after(tx, cursor, compiled.sql, args, many=False)
        return cursor, compiled


# SQLAlchemy's cursor events see these statements as they see its own, so nothing on the
# hot path hides from a listener (a statement count, an SQL log). Without listeners each
# costs one check. The execution context is None: there is none.
def _before(tx: Connection, cursor: Any, sql: str, args: Any, *, many: bool) -> None:
    if tx.dispatch.before_cursor_execute:
        tx.dispatch.before_cursor_execute(tx, cursor, sql, args, None, many)


def _after(tx: Connection, cursor: Any, sql: str, args: Any, *, many: bool) -> None:
    if tx.dispatch.after_cursor_execute:
        tx.dispatch.after_cursor_execute(tx, cursor, sql, args, None, many)


def inserting(table: Table, *, returning: Any = None,
              fixed: Mapping[str, Any] | None = None) -> Prepared:
    """An INSERT of one row of `table`: every column but `id`, each bound under its own
    name (all must be given) but those `fixed` in the statement itself (None: NULL);
    `returning` adds a RETURNING clause."""
    fixed = fixed or {}
    stmt = insert(table).values({
        c: (null() if fixed[c.key] is None else literal(fixed[c.key], c.type))
        if c.key in fixed else bindparam(c.key)
        for c in table.columns if c.key != "id"})
    # Without RETURNING the insert is "inline": PostgreSQL is not asked for the new id.
    return Prepared(stmt.returning(returning) if returning is not None else stmt.inline())


def _wrapped(compiled: _Compiled, args: Any, error: Exception) -> Exception:
    """The driver's error as SQLAlchemy's (IntegrityError, OperationalError, ...)."""
    return exc.DBAPIError.instance(compiled.sql, args, error, compiled.dbapi_error,
                                   hide_parameters=True)
