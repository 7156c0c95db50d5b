"""Which notification templates there are, read from the files present in `templates/`.

A shared template is `templates/<name>.txt` with its `.html`; a regime's own wording of one
is in the folder its definitions name (`ProcessDefinition.templates`: `cspr/refer.txt`)
and extends the shared template, overriding only the blocks it words differently. Which
triggers and timer ladders each definition has is the definition's business:
tests/handlers/test_catalogue.py checks that every trigger and ladder of every shipped
definition has its template here, and that every template here serves one.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable

LAYOUTS: tuple[str, ...] = ("layout.txt", "layout.html")

# delivery_failed alerts the business manager; calendar_update carries one .ics (a deadline
# or meeting added, moved or withdrawn), separately from the transition that caused it.
SYSTEM_TEMPLATES: tuple[str, ...] = ("delivery_failed", "calendar_update")

TIMER_PREFIX = "timer."


def _names(folder: Traversable) -> tuple[str, ...]:
    """The template names in `folder`: each `.txt` file that is not a layout."""
    return tuple(sorted(entry.name.removesuffix(".txt") for entry in folder.iterdir()
                        if entry.is_file() and entry.name.endswith(".txt")
                        and entry.name not in LAYOUTS))


def _folders(root: Traversable) -> list[Traversable]:
    return sorted((entry for entry in root.iterdir()
                   if entry.is_dir() and not entry.name.startswith(("_", "."))),
                  key=lambda entry: entry.name)


_ROOT = files("scr.handlers").joinpath("templates")

SHARED_TEMPLATES: tuple[str, ...] = _names(_ROOT)
# Each regime's folder and the shared templates it words in its own way.
REGIME_TEMPLATES: Mapping[str, tuple[str, ...]] = {
    folder.name: _names(folder) for folder in _folders(_ROOT)}
TEMPLATE_NAMES: tuple[str, ...] = SHARED_TEMPLATES + tuple(
    f"{folder}/{name}" for folder, names in REGIME_TEMPLATES.items() for name in names)
TRIGGER_TEMPLATES: tuple[str, ...] = tuple(
    name for name in SHARED_TEMPLATES
    if not name.startswith(TIMER_PREFIX) and name not in SYSTEM_TEMPLATES)
LADDER_TEMPLATES: tuple[str, ...] = tuple(
    name for name in SHARED_TEMPLATES if name.startswith(TIMER_PREFIX))


def template_for(folder: str, name: str) -> str:
    """The template a case of a definition whose templates are in `folder` is mailed with:
    the regime's own wording of `name` if it has one, else the shared template."""
    return f"{folder}/{name}" if name in REGIME_TEMPLATES.get(folder, ()) else name


def shared_of(name: str) -> str:
    """The shared template a template is, or extends ("cspr/refer" -> "refer")."""
    return name.rpartition("/")[2]


def template_files() -> tuple[str, ...]:
    """Every template file a notice can use, layouts included (for checks and tests)."""
    names = [f"{name}.{ext}" for name in TEMPLATE_NAMES for ext in ("txt", "html")]
    return (*LAYOUTS, *names)
