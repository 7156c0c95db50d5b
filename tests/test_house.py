"""The house's rules, read from the code's imports (docs/architecture.md draws them):

- states ← storage ← lifecycle → handlers, and no other way round;
- no module under lifecycle/ imports SQLAlchemy, SQLModel, Alembic or a database driver:
  every statement lives in storage/, behind its verbs;
- inside lifecycle/, core knows neither the runtime, the views nor the command line; the
  runtime and the views know no command line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _modules(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


def _offenders(folder: str, banned: tuple[str, ...]) -> list[str]:
    return [f"{path.relative_to(ROOT)} imports {name}" for path in _modules(folder)
            for name in sorted(_imports(path))
            if any(name == b or name.startswith(b + ".") for b in banned)]


@pytest.mark.parametrize(("folder", "banned"), [
    ("states", ("storage", "lifecycle", "handlers", "sqlalchemy", "sqlmodel")),
    ("storage", ("lifecycle", "handlers")),
    ("handlers", ("states", "storage", "lifecycle")),
    ("lifecycle", ("sqlalchemy", "sqlmodel", "sqlite3", "psycopg", "alembic",
                   "storage.prepared", "storage.models", "storage.tables")),
    ("lifecycle/core", ("lifecycle.runtime", "lifecycle.views", "lifecycle.cli",
                        "lifecycle.demo")),
    ("lifecycle/runtime", ("lifecycle.views", "lifecycle.cli", "lifecycle.demo")),
    ("lifecycle/views", ("lifecycle.runtime", "lifecycle.cli", "lifecycle.demo")),
])
def test_imports_run_one_way(folder, banned):
    assert _offenders(folder, banned) == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    """The rule is read from every import, not only those at the top of a module."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from sqlalchemy import select\n    return select\n")
    assert "sqlalchemy" in _imports(sample)
