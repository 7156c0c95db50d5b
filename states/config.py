"""The numbers of the process, all configurable (SPEC §2: defaults, not constants)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from states.calendar import Offset, WorkingCalendar
from states.enums import CORE_AGENCIES
from states.timers import DEFAULT_OFFSETS


def _default_offsets() -> Mapping[str, Offset]:
    return MappingProxyType({k: Offset.parse(v) for k, v in DEFAULT_OFFSETS.items()})


@dataclass(frozen=True)
class ProcessConfig:
    agencies: tuple[str, ...] = CORE_AGENCIES
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    offsets: Mapping[str, Offset] = field(default_factory=_default_offsets)

    def offset(self, key: str) -> Offset:
        return self.offsets[key]

    @property
    def notice_period(self) -> Offset:
        return self.offsets["notice_period"]

    def with_offsets(self, overrides: Mapping[str, str]) -> ProcessConfig:
        """A copy with some offsets replaced; unknown keys or bad values raise ValueError."""
        unknown = sorted(set(overrides) - set(self.offsets))
        if unknown:
            raise ValueError(f"unknown timer setting {unknown[0]!r}")
        merged = dict(self.offsets)
        merged.update({k: Offset.parse(v) for k, v in overrides.items()})
        return ProcessConfig(self.agencies, self.calendar, MappingProxyType(merged))
