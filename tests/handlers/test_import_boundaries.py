from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import scr.handlers

PACKAGE = Path(scr.handlers.__file__).parent
FORBIDDEN = {"lifecycle", "storage", "states"}
# markupsafe is Jinja2's own: the markup a command or a portal link is made of in HTML.
ALLOWED_THIRD_PARTY = {"jinja2", "markupsafe", "icalendar"}


def _root(module: str) -> str:
    """A module's package: the first name, or the folder under the `scr` namespace."""
    parts = module.split(".")
    return parts[1] if parts[0] == "scr" and len(parts) > 1 else parts[0]


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {_root(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(_root(node.module))
    return roots


def test_handlers_import_only_the_standard_library_jinja2_icalendar_and_themselves() -> None:
    """No handlers module imports lifecycle, storage, states or any other package."""
    modules = sorted(PACKAGE.glob("*.py"))
    assert {p.name for p in modules} >= {"notices.py", "render.py", "ics.py", "mail.py"}
    for path in modules:
        roots = imported_roots(path) - {"__future__"}
        assert not roots & FORBIDDEN, path.name
        outside = roots - set(sys.stdlib_module_names) - ALLOWED_THIRD_PARTY - {"handlers"}
        assert not outside, f"{path.name} imports {sorted(outside)}"


def test_importing_handlers_loads_no_other_project_package() -> None:
    """In a fresh interpreter, importing every handlers module pulls in none of the others."""
    code = (
        "import sys, scr.handlers.notices, scr.handlers.render, scr.handlers.ics, "
        "scr.handlers.mail, scr.handlers.transport; "
        "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('scr.')} "
        f"& set({sorted(FORBIDDEN)!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"
