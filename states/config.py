"""The board's numbers for its processes, all configurable (defaults, not constants).

A definition carries its default distances (`default_offsets`); the board's `[timers]`
settings override them by key in every definition that has the key. `bind` gives the
configuration one definition's cases run with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from scr.states.enums import CORE_AGENCIES, DEFAULT_THEMES
from scr.states.working_days import Offset, WorkingDays

_NONE: Mapping[str, Offset] = MappingProxyType({})
# Anchors that are a date set ahead of time (a deadline, a meeting, a publication date, an
# action's due date): a distance from one of them may fall before, on or after it, like the
# reminder two working days before returns are due. Every other distance counts on from
# something that has happened (a referral, entering a state, the previous level, a
# recurrence), and is at least one of its unit: zero or less would fall due at once, and a
# recurrence that does not move on would never end.
DATED_ANCHORS = frozenset({"returns_due", "meeting", "publication_date", "action_due",
                           "public_until"})


def _none() -> Mapping[str, Offset]:
    return _NONE


@dataclass(frozen=True)
class ProcessConfig:
    agencies: tuple[str, ...] = CORE_AGENCIES
    working_days: WorkingDays = field(default_factory=WorkingDays)
    # The board's own distances (its `[timers]` settings), by key.
    overrides: Mapping[str, Offset] = field(default_factory=_none)
    # The definition new cases start under: its name, and its version (None: the newest).
    start: tuple[str, str | None] = ("cspr", None)
    # Once bound to a definition: its distances with the board's overrides.
    offsets: Mapping[str, Offset] = field(default_factory=_none)
    # Once bound: whether the definition's clocks in days or months roll on to a working day
    # (ProcessDefinition.due_on_working_days).
    rolls: bool = False
    # The safeguarding partner who fires the partners' decision, the others' agreement
    # recorded (`[process] lead_partner`); None: any of the three, once all have agreed.
    lead_partner: str | None = None
    # The themes a review from elsewhere may be filed under (`[learning] themes`).
    themes: tuple[str, ...] = DEFAULT_THEMES
    # Education is a safeguarding partner beside the three (`[process] education_partner`;
    # the Children's Wellbeing and Schools Act 2026 makes it one once commenced): CSPR
    # version 2's decisions then need its view too.
    education_partner: bool = False
    # The board deposits its published reviews with the NSPCC's national case review
    # repository, and wants reminding (`[process] nspcc_repository`; CSPR version 2).
    nspcc_repository: bool = False

    def bind(self, definition: Any) -> ProcessConfig:
        """This configuration for the cases of `definition` (a ProcessDefinition)."""
        merged = {k: Offset.parse(v) for k, v in definition.default_offsets.items()}
        merged.update({k: v for k, v in self.overrides.items() if k in merged})
        return replace(self, offsets=MappingProxyType(merged),
                       rolls=bool(getattr(definition, "due_on_working_days", False)))

    def shift(self, moment: Any, offset: Offset) -> Any:
        """`moment` moved by `offset` on the board's working days, rolled on to a working day
        when the bound definition says its clocks fall due on working days."""
        return self.working_days.shift(moment, offset, roll=self.rolls)

    def offset(self, key: str) -> Offset:
        """A distance of the bound definition; KeyError before `bind` or for an unknown key."""
        return self.offsets[key]

    @property
    def notice_period(self) -> Offset:
        return self.offsets["notice_period"]

    def with_offsets(self, overrides: Mapping[str, str],
                     definitions: Iterable[Any] | None = None) -> ProcessConfig:
        """An unbound copy with the board's distances set; a key in none of `definitions`
        (by default every shipped definition), a bad value, or a distance that must count
        forward (see DATED_ANCHORS) and does not, raises ValueError naming the key."""
        if definitions is None:
            from scr.states.registry import REGISTRY

            definitions = REGISTRY
        definitions = tuple(definitions)
        known = {k for d in definitions for k in d.default_offsets}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown timer setting {unknown[0]!r}")
        either_way = _dated_keys(definitions)
        merged = dict(self.overrides)
        for key, text in overrides.items():
            try:
                offset = Offset.parse(text)
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
            if offset.n < 1 and key not in either_way:
                raise ValueError(f"{key} must be at least 1{offset.unit} (it counts on from "
                                 f"something that has happened; got {text.strip()!r})")
            merged[key] = offset
        return replace(self, overrides=MappingProxyType(merged), offsets=_NONE, rolls=False)


def _dated_keys(definitions: Iterable[Any]) -> set[str]:
    """The timer keys of `definitions` whose distance is from a dated anchor (a level's
    own distance; never a recurrence's `.every`)."""
    return {f"{spec.ladder}.{level.name}" for d in definitions for spec in d.timers
            for level in spec.levels if level.anchor in DATED_ANCHORS}
