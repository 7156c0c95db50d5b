"""The house's rules, read from the code's imports (docs/architecture.md draws them):

- states ← storage ← lifecycle → handlers, and no other way round;
- no module under lifecycle/ imports SQLAlchemy, SQLModel, Alembic or a database driver:
  every statement lives in storage/, behind its verbs;
- inside lifecycle/, core knows neither the runtime, the views nor the command line; the
  runtime and the views know no command line; the portal knows no command line, and both
  stand on lifecycle/application.py.
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
    if folder.endswith(".py"):
        return [ROOT / folder]
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


def _offenders(folder: str, banned: tuple[str, ...]) -> list[str]:
    return [f"{path.relative_to(ROOT)} imports {name}" for path in _modules(folder)
            for name in sorted(_imports(path))
            if any(name == b or name.startswith(b + ".") for b in banned)]


@pytest.mark.parametrize(("folder", "banned"), [
    ("states", ("scr.storage", "scr.lifecycle", "scr.handlers", "sqlalchemy", "sqlmodel")),
    ("storage", ("scr.lifecycle", "scr.handlers")),
    ("handlers", ("scr.states", "scr.storage", "scr.lifecycle")),
    ("lifecycle", ("sqlalchemy", "sqlmodel", "sqlite3", "psycopg", "alembic",
                   "scr.storage.prepared", "scr.storage.models", "scr.storage.tables")),
    ("lifecycle/core", ("scr.lifecycle.runtime", "scr.lifecycle.views", "scr.lifecycle.cli",
                        "scr.lifecycle.demo")),
    ("lifecycle/runtime", ("scr.lifecycle.views", "scr.lifecycle.cli", "scr.lifecycle.demo")),
    ("lifecycle/views", ("scr.lifecycle.runtime", "scr.lifecycle.cli", "scr.lifecycle.demo")),
    # The portal stands on the application (lifecycle/application.py), not on the command
    # line; the command line starts the portal (`scr web`) and imports only that of it.
    ("lifecycle/web", ("scr.lifecycle.cli", "scr.lifecycle.demo")),
    ("lifecycle/application.py", ("scr.lifecycle.cli", "scr.lifecycle.web",
                                  "scr.lifecycle.demo")),
])
def test_imports_run_one_way(folder, banned):
    assert _offenders(folder, banned) == []


FOLDERS = ("states", "storage", "lifecycle", "handlers")


def test_the_code_imports_itself_through_the_scr_package():
    """The folders are installed as scr.states, scr.storage, … (pyproject.toml), never as
    top-level packages: an import of a bare `storage` would find another distribution's."""
    bare = [f"{path.relative_to(ROOT)} imports {name}"
            for folder in (*FOLDERS, "tests", "bench")
            for path in sorted((ROOT / folder).rglob("*.py"))
            for name in sorted(_imports(path)) if name.split(".")[0] in FOLDERS]
    assert bare == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    """The rule is read from every import, not only those at the top of a module."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from sqlalchemy import select\n    return select\n")
    assert "sqlalchemy" in _imports(sample)


# Where scr may read the wall clock: the command line's edge (Settings.clock, which --now
# overrides), the daemon's clock and its scheduling, the demo's folder name and a backup's
# file name. Everything else takes `now` as a parameter, so a test moves time by passing a
# later one and never depends on the day it runs.
CLOCK_READERS = {"lifecycle/settings.py", "lifecycle/runtime/daemon.py",
                 "lifecycle/demo/play.py", "storage/backup.py"}
_CLOCK_CALLS = {"now", "today", "utcnow", "time", "time_ns", "localtime", "gmtime"}


def _clock_reads(path: Path) -> list[int]:
    """The lines of `path` that call datetime.now(), date.today(), time.time() or kin."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in _CLOCK_CALLS:
            base = node.func.value
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", None)
            if name in {"datetime", "date", "time"}:
                lines.append(node.lineno)
    return lines


def test_nothing_below_the_command_line_reads_the_clock():
    readers = {str(path.relative_to(ROOT)): lines
               for folder in ("states", "storage", "lifecycle", "handlers")
               for path in _modules(folder) if (lines := _clock_reads(path))}
    assert set(readers) <= CLOCK_READERS, readers


def test_the_clock_check_sees_each_way_of_reading_it(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import datetime, time\nfrom datetime import date, datetime as dt\n"
                      "a = datetime.datetime.now()\nb = date.today()\nc = time.time()\n"
                      "d = dt.min.time()\n")
    assert _clock_reads(sample) == [3, 4, 5]


# The definition is the only place a rule lives: a trigger's, guard's, state's or
# parameter's name quoted outside states/ (and the templates, the tests and the demo's
# script) is a rule decided by name somewhere else. These are the places left, and how many
# each quotes; the count may only come down. (Names with an underscore: the single words,
# such as `date` or `agency`, are also ordinary keys.) Two kinds of quoting are
# declarations, not decisions, and are not counted: storage/ naming the columns of its own
# tables (a column that keeps a parameter's value has the parameter's name: the schema is
# storage's, and it decides nothing), and the name an effect is registered under
# (`@effect("...")` in lifecycle/core/effects.py: the definition names the effect a trigger
# has, TriggerSpec.effect, as it names its guards; a shipped definition's effects are
# called by their triggers' names, and shipped definitions are frozen).
NAMED_ELSEWHERE = {
    "handlers/render.py": 1,
    "lifecycle/cli/learning.py": 1, "lifecycle/core/effects.py": 9,
    "lifecycle/core/engine.py": 1, "lifecycle/core/notify.py": 1,
    "lifecycle/views/documents.py": 2, "lifecycle/views/report.py": 2,
    "lifecycle/views/text.py": 7,
    "lifecycle/views/why.py": 1,
    # The seal's version 1 names a column migration 0011 dropped (the Panel's response):
    # a format of the past, kept so that old seals verify.
    "storage/seal.py": 1,
}


def _definition_names() -> set[str]:
    from scr.states.registry import REGISTRY

    names: set[str] = set()
    for d in REGISTRY:
        names |= set(d.states)
        for spec in (d.create, *d.all_triggers):
            names |= {spec.name, *spec.guards, *(p.name for p in spec.params)}
        names |= {t.ladder for t in d.timers}
    return {n for n in names if "_" in n}


def _columns() -> set[str]:
    from scr.storage.tables import metadata

    return {column.name for table in metadata.tables.values() for column in table.columns}


def _declarations(tree: ast.AST) -> set[int]:
    """The ids of the constants that name an effect where it is registered."""
    return {id(arg) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.
            AsyncFunctionDef) for call in node.decorator_list if isinstance(call, ast.Call)
            and getattr(call.func, "id", None) == "effect" for arg in call.args}


def _quoted(path: Path, names: set[str], *, in_storage: bool) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = _columns() if in_storage else set()
    declared = _declarations(tree)
    return sum(1 for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and node.value in names
               and node.value not in own and id(node) not in declared)


def test_the_names_check_leaves_out_only_declarations(tmp_path):
    """A registered effect's name is not counted; the same name compared is."""
    sample = tmp_path / "sample.py"
    sample.write_text('@effect("record_meeting")\ndef f(x):\n    return x.spec.name == '
                      '"record_meeting" or x.c["meeting_date"]\n', encoding="utf-8")
    assert _quoted(sample, {"record_meeting", "meeting_date"}, in_storage=False) == 2
    assert _quoted(sample, {"record_meeting", "meeting_date"}, in_storage=True) == 1


def test_names_from_the_definitions_are_quoted_in_no_new_place():
    names = _definition_names()
    found = {str(path.relative_to(ROOT)): count
             for folder in ("lifecycle", "handlers", "storage") for path in _modules(folder)
             if "demo" not in path.parts
             and (count := _quoted(path, names, in_storage=folder == "storage"))}
    grown = {f: (n, NAMED_ELSEWHERE.get(f, 0)) for f, n in found.items()
             if n > NAMED_ELSEWHERE.get(f, 0)}
    assert not grown, f"names decided outside the definition (now, allowed): {grown}"
    shrunk = {f: (found.get(f, 0), n) for f, n in NAMED_ELSEWHERE.items()
              if found.get(f, 0) < n}
    assert not shrunk, f"fewer names quoted than allowed: lower NAMED_ELSEWHERE {shrunk}"
