"""A process as the engine runs it: a registered definition with its machine and the board's
configuration bound to it, looked up by the name and version a case stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from scr.states.config import ProcessConfig
from scr.states.process import ProcessDefinition
from scr.states.registry import REGISTRY, Registry

if TYPE_CHECKING:
    from scr.lifecycle.core.machine import ProcessMachine


@dataclass(frozen=True)
class Process:
    definition: ProcessDefinition
    config: ProcessConfig  # bound to the definition

    @cached_property
    def machine(self) -> ProcessMachine:
        """The definition's machine: the one built at import for a shipped definition,
        else built now (reading a case never needs it, so it is made on first use)."""
        from scr.lifecycle.core.machine import SHIPPED, ProcessMachine

        shipped = SHIPPED.get(self.definition.key)
        if shipped is not None and shipped.definition is self.definition:
            return shipped
        return ProcessMachine(self.definition)

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def version(self) -> str:
        return self.definition.version


@dataclass
class Processes:
    """The registry's definitions, each with its machine (built once) and bound config."""

    config: ProcessConfig = field(default_factory=ProcessConfig)
    registry: Registry = field(default_factory=lambda: REGISTRY)
    _known: dict[tuple[str, str], Process] = field(default_factory=dict, init=False)

    def get(self, name: str, version: str) -> Process:
        """The process `name` at `version`; UnknownDefinition (exit 2) if there is none."""
        found = self._known.get((name, version))
        if found is None:
            definition = self.registry.get(name, version)
            found = self._known[definition.key] = Process(definition,
                                                          self.config.bind(definition))
        return found

    def of(self, case: Any) -> Process:
        """The process a case runs under (anything with `definition` and
        `definition_version`)."""
        return self.get(case.definition, case.definition_version)

    def starting(self, name: str | None = None) -> Process:
        """The process new cases start under (the board's `[process]` setting), or the
        newest version of the process `name` (`scr refer --process`; the configured version
        when `name` is the configured default)."""
        default, version = self.config.start
        if name is not None and name != default:
            version = None
        definition = self.registry.resolve(name or default, version)
        return self.get(definition.name, definition.version)

    def every(self) -> list[Process]:
        return [self.get(d.name, d.version) for d in self.registry]

    def triggers_by_name(self) -> dict[str, tuple[Process, Any]]:
        """Every trigger by name (with the process it is taken from), as the definition new
        cases start under has it, then those only older definitions have: what help and
        completion offer."""
        found: dict[str, tuple[Process, Any]] = {}
        for process in (self.starting(), *self.every()):
            definition = process.definition
            for spec in (definition.create, *definition.all_triggers):
                found.setdefault(spec.name, (process, spec))
        return found
