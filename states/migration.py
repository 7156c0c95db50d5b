"""Moving running cases to a new version of their process: the state mapping a new version
declares beside itself, as data.

A case runs under the definition it started under (states/registry.py). When a new version
of a process is written, the board may move the cases still running under an older one onto
it (`scr cases migrate`, lifecycle/core/migrating.py), as Camunda's and Flowable's process
instance migration do. What the new version's author decides is which state of the old
version each case goes to in the new one: a `Migration`, declared beside the new version,

    MIGRATION = Migration("cspr", "1", "2", MappingProxyType({"sub_group": "rapid_review"}))

and listed in its process package's `MIGRATIONS` (states/cspr/__init__.py), where `shipped`
finds it. A state the mapping does not name goes to the state of the same name, when the new
version has one; a case whose state has no counterpart is not moved. Only a declared
migration moves anything: cases do not change version because a new one exists.

The history row that records a move names the reserved trigger MIGRATE_TRIGGER, which no
definition may declare (states/validate.py): nobody fires it, and the views word it by its
parameters (the process and both versions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from scr.states.errors import InvalidInput

if TYPE_CHECKING:
    from scr.states.case import CaseSnapshot
    from scr.states.process import ProcessDefinition
    from scr.states.registry import Registry

# The trigger a move is recorded under in the case's history (never a trigger of any
# definition: validate refuses a definition that declares it), and its words.
MIGRATE_TRIGGER = "migrate"
MIGRATE_LABEL = "Moved to another version of its process"


@dataclass(frozen=True)
class Migration:
    """How the cases of `name` version `from_version` move to `to_version`: `states` maps
    each old state that changes its name to its new one (the others keep theirs)."""

    name: str
    from_version: str
    to_version: str
    states: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Why a case, as it stands, cannot move (a rule of the new version it does not meet
    # where it is: CSPR version 2 runs no rapid review without a notification), or None.
    refuses: Callable[[CaseSnapshot], str | None] | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.name, self.from_version, self.to_version)

    def state_for(self, state: str) -> str:
        """The state a case in `state` goes to (not checked against the new version)."""
        return self.states.get(state, state)

    def problems(self, old: ProcessDefinition, new: ProcessDefinition) -> list[str]:
        """What is wrong with the mapping between the two definitions; empty when sound."""
        found = []
        if (old.name, new.name) != (self.name, self.name) or (old.version, new.version) != (
                self.from_version, self.to_version):
            found.append(f"it is declared for {self.name} {self.from_version} -> "
                         f"{self.to_version}, not {old.name} {old.version} -> "
                         f"{new.name} {new.version}")
        if self.from_version == self.to_version:
            found.append("it moves cases to the version they are at")
        found += [f"it maps {s}, which is no state of version {old.version}"
                  for s in self.states if s not in old.states]
        found += [f"it maps {s} to {t}, which is no state of version {new.version}"
                  for s, t in self.states.items() if t not in new.states]
        return found


class MigrationError(InvalidInput):
    """No declared migration moves cases between the versions asked for, or it is unsound."""


def find(migrations: Iterable[Migration], registry: Registry, name: str, from_version: str,
         to_version: str) -> tuple[Migration, ProcessDefinition, ProcessDefinition]:
    """The migration of `name` from `from_version` to `to_version`, with both definitions;
    UnknownDefinition or MigrationError (both bad input, exit 2) when there is none."""
    if from_version == to_version:
        raise MigrationError(f"--from and --to are both {name} version {from_version}: a "
                             "migration moves cases to another version")
    old = registry.get(name, from_version)
    new = registry.get(name, to_version)
    found = next((m for m in migrations if m.key == (name, from_version, to_version)), None)
    if found is None:
        raise MigrationError(f"no migration is declared from {name} version {from_version} "
                             f"to version {to_version} (a new version declares one beside "
                             "itself: states/migration.py)")
    problems = found.problems(old, new)
    if problems:
        raise MigrationError(f"the migration {name} {from_version} -> {to_version} is "
                             "unsound: " + "; ".join(problems))
    return found, old, new


def shipped() -> tuple[Migration, ...]:
    """The migrations the shipped processes declare: each process package's `MIGRATIONS`,
    beside its versions (none yet)."""
    from scr.states import cspr, learning, scr

    return tuple(m for package in (scr, cspr, learning)
                 for m in getattr(package, "MIGRATIONS", ()))
