"""A definition's fingerprint: the whole of it (states, triggers with their parameters,
roles, guards, effects and recipients, ladders with their levels, default offsets, words,
criteria, conditions) as canonical JSON, and its SHA-256.

A shipped version is frozen: its cases run under it for years (Working Together 2023 keeps a
case under the rules it started with). tests/states/golden/ holds each shipped version's
canonical form, and a test fails when the code no longer produces it, so an edit that would
change the rules of running cases (a shared guard's code, a version built from another with
`dataclasses.replace`) is seen, and becomes a new version instead.

A function (a guard, a condition, the criteria) stands as its name and a digest of its
source: the rule it decides is part of the definition.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
from collections.abc import Mapping
from enum import Enum
from typing import Any

from scr.states.process import ProcessDefinition

__all__ = ["canonical", "fingerprint", "text"]


def canonical(definition: ProcessDefinition) -> dict[str, Any]:
    """The definition as plain JSON data, the same on every run of the same code: the
    definition with each field at its default left out, and the defaults of every kind of
    thing in it (a trigger, a parameter, a ladder), so that a changed default shows too."""
    kinds: dict[str, Any] = {}
    found = _plain(definition, kinds)
    return {"definition": found, "defaults": {name: kinds[name] for name in sorted(kinds)}}


def text(definition: ProcessDefinition) -> str:
    """The canonical form as indented JSON text (what the golden files hold)."""
    return json.dumps(canonical(definition), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def fingerprint(definition: ProcessDefinition) -> str:
    """The SHA-256 of the canonical form, in hex."""
    compact = json.dumps(canonical(definition), sort_keys=True, separators=(",", ":"),
                         ensure_ascii=False)
    return hashlib.sha256(compact.encode("utf-8")).hexdigest()


def _defaults(kind: type) -> dict[str, Any]:
    found = {}
    for f in dataclasses.fields(kind):
        if f.default is not dataclasses.MISSING:
            found[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            found[f.name] = f.default_factory()
    return found


def _plain(value: Any, kinds: dict[str, Any]) -> Any:
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Derived fields are kept (what every definition gains: the timer trigger, the impact
        # checks), the private indexes over them are not. A field at its default is left
        # out: a new property declared with a default shows once, in the defaults.
        defaults = _defaults(type(value))
        if type(value).__name__ not in kinds:
            kinds[type(value).__name__] = {}  # placed first: a default may hold this kind
            kinds[type(value).__name__] = {k: _plain(v, kinds) for k, v in defaults.items()
                                           if not k.startswith("_")}
        return {"type": type(value).__name__,
                **{f.name: _plain(getattr(value, f.name), kinds)
                   for f in dataclasses.fields(value) if not f.name.startswith("_")
                   and not (f.name in defaults and getattr(value, f.name) == defaults[f.name])}}
    if isinstance(value, Mapping):
        return {str(k): _plain(v, kinds)
                for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, frozenset | set):
        return sorted((_plain(v, kinds) for v in value),
                      key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, tuple | list):
        return [_plain(v, kinds) for v in value]
    if callable(value):
        # Named by its place in the source tree (states.guards.x), not by the package it is
        # installed as (scr.states.guards.x): where the code is installed is not the rule.
        source = inspect.getsource(value)
        return {"function": f"{value.__module__.removeprefix('scr.')}.{value.__qualname__}",
                "source_sha256": hashlib.sha256(source.encode("utf-8")).hexdigest()}
    raise TypeError(f"a definition holds a {type(value).__name__}, which has no canonical form")
