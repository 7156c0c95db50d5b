"""An immutable snapshot of one case, as guards, timers and criteria see it.

storage.cases reads it from the stored rows; everything in `states/` reads only this, so
the process stays pure and testable without a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from scr.states.enums import ActionStatus, Proceedings


@dataclass(frozen=True)
class ReferralFacts:
    incident_date: date
    harm: str
    abuse: str
    agency_concern: bool = False
    grounds: tuple[str, ...] = ()
    route: str = "professional"
    referrer_agency: str | None = None
    criminal_proceedings: bool = False
    aware_on: date | None = None  # None under SCR version 1, which did not ask
    looked_after: bool = False


@dataclass(frozen=True)
class LearningFacts:
    """A review from elsewhere in the board's learning register (states/learning): what was
    published, and whether the case review sub-group found it relevant (None: not yet
    considered)."""

    title: str
    source: str
    published_on: date
    themes: tuple[str, ...] = ()
    relevant: bool | None = None


@dataclass(frozen=True)
class AgencyAsk:
    agency: str
    round: int
    requested_at: datetime
    due_at: datetime
    returned_at: datetime | None = None
    view: str | None = None


@dataclass(frozen=True)
class MeetingFacts:
    date: date
    attendees: frozenset[str]
    recorded_at: datetime


@dataclass(frozen=True)
class ActionFacts:
    number: int
    agency: str
    owner: str
    due: date
    status: str = ActionStatus.OPEN


@dataclass(frozen=True)
class CaseSnapshot:
    ref: str
    state: str
    # A case opened by a referral has its facts; a record of the learning register
    # (states/learning) has none, and its `learning` facts instead.
    referral: ReferralFacts | None
    referred_at: datetime
    state_entered_at: datetime
    kind: str | None = None
    flags: frozenset[str] = frozenset()
    round: int = 1
    agencies: tuple[AgencyAsk, ...] = ()
    returns_due_at: datetime | None = None
    meeting_date: date | None = None
    # Sub-group meetings recorded since the case entered its current state (those of an
    # earlier stay, before a referral back, do not count for a recommendation).
    meetings: tuple[MeetingFacts, ...] = ()
    recommendation: str | None = None
    lead_reviewer: str | None = None
    commissioned_at: datetime | None = None
    decided_at: datetime | None = None
    criminal: str = Proceedings.NONE
    care: str = Proceedings.NONE
    expected_conclusion: date | None = None
    outputs: frozenset[str] = frozenset()
    notice_sent_at: datetime | None = None
    scheduled_publication: date | None = None
    actions: tuple[ActionFacts, ...] = ()
    inquest: str = Proceedings.NONE
    learning: LearningFacts | None = None
    # The facts its definition declares (states.facts), in their stored form: read each
    # through its declaration (`Fact.of`), which types it.
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def referred(self) -> ReferralFacts:
        """The referral's facts, for what only a referred case has (criteria, the statutory
        clocks from awareness); a learning record has none."""
        if self.referral is None:
            raise TypeError(f"{self.ref} is a learning record: it has no referral")
        return self.referral

    def current_asks(self) -> tuple[AgencyAsk, ...]:
        """The agencies asked in the current information-request round."""
        return tuple(a for a in self.agencies if a.round == self.round)

    def outstanding(self) -> tuple[AgencyAsk, ...]:
        return tuple(a for a in self.current_asks() if a.returned_at is None)

    def action(self, number: int) -> ActionFacts | None:
        return next((a for a in self.actions if a.number == number), None)


@dataclass(frozen=True)
class Actor:
    """Who fires a trigger: a user with roles (and an agency for agency leads), or the daemon.

    `recorded_by` names the business manager who records a decision `name` made (the
    command line's --as on a live board): the roles are `name`'s, and both names are kept."""

    name: str
    roles: frozenset[str]
    agency: str | None = None
    recorded_by: str | None = None

    @property
    def is_system(self) -> bool:
        return "system" in self.roles


SYSTEM_ACTOR = Actor("system", frozenset({"system"}))


@dataclass(frozen=True)
class GuardContext:
    """Everything a guard may look at beyond the case: the input and the moment."""

    params: Mapping[str, Any]
    reason: str | None
    now: datetime
    config: Any  # states.config.ProcessConfig; typed loosely to keep this module a leaf
    actor: Actor = field(default=SYSTEM_ACTOR)
    # The case's definition's criteria assessment (states.criteria.assess when None).
    criteria: Any = None
    # The definition's own words (ProcessDefinition.words).
    words: Mapping[str, str] = field(default_factory=dict)
