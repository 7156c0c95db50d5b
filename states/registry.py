"""The process definitions this code knows, by name and version.

Each case stores the name and version of the definition it started under, and everything
that works on a case (the engine, the sweep, timers, criteria, `why`, the diagram, e-mail)
looks that definition up here. Adding a definition, or a new version of one, changes no
stored case: the cases of the old version keep its rules. The board's configuration names
the definition new cases start under (`[process] definition`, and optionally `version`;
without one, the newest version of that name that is not a draft).

A draft is a version still being written: registered, so that a board may try it by naming
its version (`[process] version`) and the tests can run it, but never started by default,
and not yet frozen (its golden fingerprint may still change: tests/states/golden/).
"""

from __future__ import annotations

from collections.abc import Iterator

from scr.states import validate
from scr.states.errors import InvalidInput
from scr.states.params import Param
from scr.states.process import ProcessDefinition


class UnknownDefinition(InvalidInput):
    """A definition name or version that is not registered."""


def _order(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (10**9, version)


class Registry:
    """Definitions keyed by (name, version); each is validated when it is registered."""

    def __init__(self, *definitions: ProcessDefinition,
                 drafts: tuple[tuple[str, str], ...] = ()) -> None:
        self._known: dict[tuple[str, str], ProcessDefinition] = {}
        self._drafts = frozenset(drafts)
        for definition in definitions:
            self.register(definition)

    def is_draft(self, definition: ProcessDefinition) -> bool:
        """Whether `definition` is a draft: started only where a board names its version."""
        return definition.key in self._drafts

    def register(self, definition: ProcessDefinition) -> ProcessDefinition:
        """Add `definition`; DefinitionError if it is unsound, ValueError if its name and
        version are taken."""
        validate.check(definition)
        if definition.key in self._known:
            raise ValueError(f"{definition.name} version {definition.version} is registered "
                             "already: a changed process is a new version")
        self._known[definition.key] = definition
        return definition

    def get(self, name: str, version: str) -> ProcessDefinition:
        found = self._known.get((name, version))
        if found is None:
            raise UnknownDefinition(f"no process definition {name} version {version} "
                                    f"(scr definitions lists them)")
        return found

    def newest(self, name: str) -> ProcessDefinition:
        """The newest version of `name` that is not a draft."""
        versions = [d for (n, _), d in self._known.items()
                    if n == name and d.key not in self._drafts]
        if not versions:
            known = ", ".join(sorted({n for n, _ in self._known})) or "none"
            raise UnknownDefinition(f"no process definition called {name!r} (known: {known})")
        return max(versions, key=lambda d: _order(d.version))

    def resolve(self, name: str, version: str | None) -> ProcessDefinition:
        """The definition `name` at `version`, or its newest version when None."""
        return self.newest(name) if version is None else self.get(name, version)

    def states(self, *, final: bool = True, referred: bool | None = None) -> list[str]:
        """Every state of every definition (without the final ones if `final` is False; of
        the definitions for referrals, or of the others, if `referred` says), in the
        definitions' order, each once."""
        return list(dict.fromkeys(s for d in self for s in d.states
                                  if (final or s not in d.finals)
                                  and (referred is None or d.referred == referred)))

    def names(self, *, referred: bool | None = None) -> list[str]:
        """The definitions' names (of those for referrals, or of the others, if `referred`
        says), sorted, each once."""
        return sorted({d.name for d in self if referred is None or d.referred == referred})

    def referral_params(self) -> dict[str, Param]:
        """Every definition's referral fields by name (the first definition's wins)."""
        found: dict[str, Param] = {}
        for definition in self:
            if not definition.referred:
                continue
            for param in definition.create.params:
                found.setdefault(param.name, param)
        return found

    def __iter__(self) -> Iterator[ProcessDefinition]:
        """Every definition, by name then version."""
        return iter(sorted(self._known.values(), key=lambda d: (d.name, _order(d.version))))

    def __len__(self) -> int:
        return len(self._known)


def shipped() -> Registry:
    """The definitions this code ships with."""
    from scr.states import cspr, learning, scr

    return Registry(scr.V1, scr.V2, cspr.V1, cspr.V2, learning.V1)


REGISTRY = shipped()
