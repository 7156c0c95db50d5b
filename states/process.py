"""The vocabulary a process definition is declared in: triggers, role rules, timer ladders,
and the definition that holds them under a name and a version.

A definition is data. It names its guards, recipients, anchors and conditions by the
libraries' names (states.guards, states.recipients, states.planning), and its effects by
the names lifecycle/core/effects.py registers them under; states.validate checks every name
when the definition is registered, and the lifecycle's machine when it is built, so a
misspelt name never loads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from scr.states.case import ReferralFacts
from scr.states.criteria import Assessment
from scr.states.enums import FINDINGS, Kind, Role
from scr.states.facts import Fact, Record
from scr.states.params import Param, PType

# TriggerSpec.effect: "the effect registered under the trigger's own name".
OWN_EFFECT = ""
ENTER = "enter"  # TimerSpec.arm_on: armed when the case enters the ladder's state
TIMER_TRIGGER = "timer"
# The guards that judge the person's --reason (states.guards): one wants a reason always,
# the other where the SCR criteria are not met. A form shows its reason field by them.
REASON_GUARD = "reason_given"
RATIONALE_GUARD = "rationale_if_criteria_not_met"


@dataclass(frozen=True)
class RoleRule:
    """A role that may fire a trigger; `scope` narrows an agency lead to one agency.

    scope "param": the agency named by the `agency` parameter; "action": the agency of the
    action named by the `action` parameter; "partner": the safeguarding partner named by the
    `partner` parameter (a safeguarding_partner user's agency is the partner they are).
    """

    role: Role
    scope: str | None = None


@dataclass(frozen=True)
class TriggerSpec:
    name: str
    label: str
    sources: tuple[str, ...]
    dest: str | None  # None: an internal transition, recording data without moving
    roles: tuple[RoleRule, ...]
    params: tuple[Param, ...] = ()
    guards: tuple[str, ...] = ()
    # Recipient selectors (states.recipients); the business manager is always added.
    notify: tuple[str, ...] = ()
    timed: bool = False  # the daemon may fire it as the system actor
    help: str = ""
    # What the trigger records beyond the state change: the name of an effect registered
    # in lifecycle/core/effects.py (OWN_EFFECT: the trigger's own name), or None.
    effect: str | None = OWN_EFFECT
    # A decision is made: the SCR criteria assessment is shown with it (`scr why`, e-mail).
    criteria: bool = False
    # What it records in the definition's own facts (states.facts), from its parameters.
    records: tuple[Record, ...] = ()
    # The decision on the referral it records, as the board's figures count it: the kind
    # of review it commissions (a states.enums.Kind: the case's kind from then on),
    # NO_REVIEW or WITHDRAWN.
    decision: str | None = None

    @property
    def internal(self) -> bool:
        return self.dest is None

    @property
    def needs_reason(self) -> bool:
        """A reason must always be given (--reason; the form's reason field)."""
        return REASON_GUARD in self.guards

    @property
    def needs_rationale(self) -> bool:
        """A reason must be given where the SCR criteria are not met."""
        return RATIONALE_GUARD in self.guards

    @property
    def reason_guards(self) -> tuple[str, ...]:
        """Its guards that judge the reason given."""
        return tuple(g for g in self.guards if g in (REASON_GUARD, RATIONALE_GUARD))

    @property
    def effect_name(self) -> str | None:
        return self.name if self.effect == OWN_EFFECT else self.effect

    @property
    def system_only(self) -> bool:
        return all(r.role == Role.SYSTEM for r in self.roles)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


# TriggerSpec.decision, beside the kinds of review a trigger may commission.
NO_REVIEW = "no_review"
WITHDRAWN = "withdrawn"
# The learning register's decision on a review from elsewhere, the sub-group's
# consideration (ProcessDefinition.decision_of): relevant here, or not.
RELEVANT = "relevant"
NOT_RELEVANT = "not_relevant"
# The effects (lifecycle/core/effects.py) a decision is read from where a definition
# declares none: the sub-group's consideration, and a record closed.
CONSIDER_EFFECT = "consider"
CLOSE_EFFECT = "close"
# The effect that records a recommendation to the decision makers (the sub-group's, or the
# rapid review meeting's): the case's page shows the newest (ProcessDefinition.recommending).
RECOMMEND_EFFECT = "recommend"


# The levels of a ladder that are deadlines rather than early reminders: once one is due
# and the step it asks for is not done, the case is overdue (`scr list --overdue`, the
# portal's overdue page, the timeline).
DEADLINE_LEVELS = ("escalation", "overdue", "due", "chair", "transition")


@dataclass(frozen=True)
class Level:
    name: str
    anchor: str  # states.planning.ANCHORS
    notify: tuple[str, ...] = ()
    recurring: bool = False  # fires again every `<ladder>.<level>.every` after its due moment


@dataclass(frozen=True)
class TimerSpec:
    """A ladder of timers armed in one state (reminder → escalation → chair).

    Each level is its own timer row so the board sees every coming deadline; after an
    outage the sweep fires only the highest level that fell due. Leaving the state disarms
    the ladder; `arm_on` triggers re-arm it (its pending levels are replaced). A ladder with
    `fires` is a timed transition: at its due moment the daemon fires that trigger as the
    system actor; when the trigger is refused, its `refused` level (if it has one) is
    announced instead, with the reasons, so the board learns why.
    """

    ladder: str
    label: str
    state: str
    arm_on: tuple[str, ...]
    levels: tuple[Level, ...]
    fires: str | None = None
    disarm_on: tuple[str, ...] = ()
    enter_via: tuple[str, ...] = ()  # armed on entry only when entered by these triggers
    when: str | None = None  # a condition (states.planning.CONDITIONS); unarmed while false
    per_action: bool = False
    # The level whose due moment is the deadline sent as a calendar invitation, if any.
    invite: str | None = None
    # For `fires` ladders: the escalation announced when the fired trigger is refused. It is
    # not planned as a timer row of its own.
    refused: Level | None = None
    # A statutory clock that runs across states (the notification due 5 working days after
    # awareness, whatever stage the case has reached): the ladder lives in these states
    # too. Leaving a state disarms it as always; entering another of its states arms it
    # again (when ENTER is in `arm_on`), and a level that has gone out for the case once,
    # in any state, does not go out again.
    also_in: tuple[str, ...] = ()

    @property
    def states(self) -> tuple[str, ...]:
        return (self.state, *self.also_in)

    @property
    def announced(self) -> tuple[Level, ...]:
        """The levels announced by the ladder's own notice (template `timer.<ladder>`):
        every level, or for a timed transition only its refusal level (the others fire the
        trigger, whose notice is the trigger's)."""
        own = () if self.fires else self.levels
        return (*own, *((self.refused,) if self.refused else ()))

    def level(self, name: str) -> Level | None:
        """The level called `name`, the refusal level included; None if there is none."""
        found = next((lv for lv in self.levels if lv.name == name), None)
        if found is None and self.refused is not None and self.refused.name == name:
            return self.refused
        return found


def _timer_trigger(states: tuple[str, ...]) -> TriggerSpec:
    """The daemon's timer firings, recorded as this internal trigger in every state that
    arms timers; its history row names the timer and how late it fired."""
    return TriggerSpec(
        TIMER_TRIGGER, "Timer fired", states, None, (RoleRule(Role.SYSTEM),),
        params=(
            Param("timer", PType.TEXT, max_length=100, help="the ladder, e.g. triage"),
            Param("level", PType.TEXT, max_length=40, help="the level, e.g. reminder"),
            Param("key", PType.TEXT, required=False, max_length=20, help="the action number"),
        ),
        effect=None,
        help="A reminder or escalation sent by the daemon.",
    )


# The board's checks that a review's learning took hold (quality assurance audits, and
# training commissioned in response) are not steps of any statutory process: every
# definition has them, old versions included, like the daemon's timer trigger, in the
# states where the review's actions are tracked and after they are signed off. They record
# and never move a case, so no case's path changes (docs/learning.md).
_ACTIONS_NAMED = Param(
    "actions", PType.NUMBERS, required=False, default=[],
    help="the numbers of the actions it answers; none: the review's learning as a whole")


# The names the impact checks are fired by (`scr qa audit`, `scr qa training`), and what a
# training records: the course, who it was for, its first and last day, how many were
# trained and the actions it answers (the training's entry in a case's document).
RECORD_AUDIT = "record_audit"
RECORD_TRAINING = "record_training"
COURSE_STARTS = Param("starts_on", PType.DATE)
COURSE_ENDS = Param("ends_on", PType.DATE)
TRAINING_PARAMS = (
    Param("course", PType.TEXT, max_length=200, free_text=True),
    Param("audience", PType.TEXT, max_length=200, free_text=True,
          help="who it is for, e.g. health visitors and school nurses"),
    COURSE_STARTS,
    COURSE_ENDS,
    Param("trained", PType.INT, help="the number of people trained"),
    _ACTIONS_NAMED,
)


def _impact_triggers(states: tuple[str, ...]) -> tuple[TriggerSpec, ...]:
    qa = (RoleRule(Role.BUSINESS_MANAGER), RoleRule(Role.SUBGROUP_CHAIR))
    return (
        TriggerSpec(
            RECORD_AUDIT, "Quality assurance audit recorded", states, None, qa,
            params=(
                Param("date", PType.DATE, not_future=True, help="the day the audit reported"),
                Param("finding", PType.CHOICE, choices=FINDINGS),
                _ACTIONS_NAMED,
                # The auditors' words stay in the audits table: never in history or e-mail.
                Param("note", PType.LONG_TEXT, required=False, default="", max_length=5000,
                      free_text=True, mailed=False, in_history=False,
                      help="what the audit found"),
            ),
            guards=("actions_named_exist",),
            notify=("subgroup_chair", "agency_leads:actions"),
            help="Record a multi-agency audit of whether the review's learning (or the "
            "actions named) took hold: embedded, partly_embedded or not_embedded.",
        ),
        TriggerSpec(
            RECORD_TRAINING, "Training in response to the learning recorded", states, None,
            qa,
            params=TRAINING_PARAMS,
            guards=("actions_named_exist", "training_dates_in_order"),
            notify=("subgroup_chair",),
            help="Record training commissioned in response to the review's learning.",
        ),
    )


def impact_states(triggers: tuple[TriggerSpec, ...]) -> tuple[str, ...]:
    """Where a definition's cases have a learning to check: the states its actions are added
    in, and the state signing the action plan off leads to."""
    found: list[str] = []
    for spec in triggers:
        if spec.name == "add_action":
            found += spec.sources
        if spec.name == "sign_off_actions" and spec.dest:
            found.append(spec.dest)
    return tuple(dict.fromkeys(found))


# What a definition's records may open with, and the parameters its creating trigger must
# take for storage to open one (the referral's facts, or the learning_items row).
OPENS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "referral": ("pseudonym", "incident_date", "harm", "abuse", "route"),
    "learning": ("title", "source", "publisher", "published_on", "themes"),
})


@dataclass(frozen=True)
class ProcessDefinition:
    """One review process, under a name and a version, as data.

    Each case stores the name and version it started under and runs under that definition
    for the whole of its life; a new version is a new definition beside the old.
    """

    name: str
    version: str
    label: str
    source: str  # the statutory guidance the rules rest on
    states: tuple[str, ...]
    state_labels: Mapping[str, str]
    initial: str
    finals: frozenset[str]
    create: TriggerSpec  # the trigger that opens a case (`refer`)
    triggers: tuple[TriggerSpec, ...]  # the rest, in the order people are shown them
    timers: tuple[TimerSpec, ...]
    default_offsets: Mapping[str, str]
    guards: Mapping[str, Callable[..., str | None]]
    input_guards: frozenset[str]
    recipients: Mapping[str, str]
    conditions: Mapping[str, Callable[..., bool]]
    # The criteria a decision on a referral is judged against; None for a process whose
    # records are not referrals (the learning register).
    criteria: Callable[[ReferralFacts], Assessment] | None
    # Words a guard's reason or an e-mail uses where the regimes differ (e.g. "notice": what
    # the pre-publication notice is called), by key; the SCR words when a key is absent.
    words: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Clocks counted in days or months fall due on a working day (a due date on a weekend
    # or bank holiday moves to the next working day). Version 1 of the SCR process did not.
    due_on_working_days: bool = False
    # The folder of the regime's own wording of shared e-mail templates (handlers/templates),
    # or "" for the shared templates only.
    templates: str = ""
    # What a new record of the process is opened with (OPENS): "referral" (a case about a
    # child, `scr refer`) or "learning" (a review from elsewhere, `scr learning add`).
    opens: str = "referral"
    # Its own facts (states.facts): what its triggers record beyond what every review
    # records, kept in the case's facts document, in the order people are shown them.
    facts: tuple[Fact, ...] = ()
    # Derived in __post_init__.
    timer_trigger: TriggerSpec = field(init=False)
    all_triggers: tuple[TriggerSpec, ...] = field(init=False)
    _by_name: Mapping[str, TriggerSpec] = field(init=False, repr=False)
    _by_ladder: Mapping[str, TimerSpec] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        timed_states = tuple(s for s in self.states if any(s in t.states for t in self.timers))
        timer = _timer_trigger(timed_states)
        checked = impact_states(self.triggers)
        everything = (*self.triggers, *(_impact_triggers(checked) if checked else ()), timer)
        set_ = object.__setattr__  # a frozen dataclass computes its derived fields once
        set_(self, "timer_trigger", timer)
        set_(self, "all_triggers", everything)
        set_(self, "_by_name", MappingProxyType({t.name: t for t in (self.create, *everything)}))
        set_(self, "_by_ladder", MappingProxyType({t.ladder: t for t in self.timers}))

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.version)

    @property
    def title(self) -> str:
        """How people see it named: 'scr version 1 (Serious Case Review)'."""
        return f"{self.name} version {self.version} ({self.label})"

    def trigger(self, name: str) -> TriggerSpec | None:
        """The trigger called `name` (the creating one included), or None."""
        return self._by_name.get(name)

    def timer(self, ladder: str) -> TimerSpec | None:
        return self._by_ladder.get(ladder)

    def fact(self, name: str) -> Fact | None:
        return next((f for f in self.facts if f.name == name), None)

    def state_label(self, state: str) -> str:
        return self.state_labels.get(state, state)

    def reads_input(self, guard: str) -> bool:
        """Whether the guard judges the trigger's input (parameters or --reason)."""
        return guard in self.input_guards

    def assess(self, referral: ReferralFacts) -> Assessment:
        """The referral judged against the definition's criteria."""
        if self.criteria is None:
            raise TypeError(f"{self.title} judges no referrals")
        return self.criteria(referral)

    @property
    def referred(self) -> bool:
        """Its records are cases opened by a referral (not the learning register's)."""
        return self.opens == "referral"

    def decision_of(self, spec: TriggerSpec) -> str | None:
        """What `spec` decides on a record, as the board's figures count it: its declared
        decision (TriggerSpec.decision); for a trigger that declares none, what it does says
        it: the sub-group's consideration (its effect CONSIDER_EFFECT) is RELEVANT when the
        record goes on (its destination is not final), NOT_RELEVANT when it ends there; a
        record closed (CLOSE_EFFECT) from the state it starts in, before anything was
        decided, is WITHDRAWN. None: it decides nothing."""
        if spec.decision is not None:
            return spec.decision
        if spec.effect_name == CONSIDER_EFFECT and spec.dest is not None:
            return RELEVANT if spec.dest not in self.finals else NOT_RELEVANT
        if (spec.effect_name == CLOSE_EFFECT and self.initial in spec.sources
                and spec.dest in self.finals):
            return WITHDRAWN
        return None

    def deciding(self, *decisions: str) -> tuple[TriggerSpec, ...]:
        """Its triggers that decide one of `decisions` (decision_of), in its order."""
        return tuple(t for t in self.all_triggers if self.decision_of(t) in decisions)

    @property
    def commissioned_in(self) -> frozenset[str]:
        """The states a review is commissioned into: where the triggers whose decision is
        a kind of review lead."""
        kinds = {str(k) for k in Kind}
        return frozenset(t.dest for t in self.all_triggers
                         if t.dest is not None and t.decision in kinds)

    def completes_review(self, spec: TriggerSpec) -> bool:
        """`spec` completes a review: it moves a case on from a state the review was
        commissioned into."""
        review = self.commissioned_in
        return (spec.dest is not None and spec.dest not in review
                and bool(review.intersection(spec.sources)))

    @property
    def held_in(self) -> frozenset[str]:
        """Where a completed review's report waits for publication: where the triggers that
        complete a review lead."""
        return frozenset(t.dest for t in self.all_triggers
                         if t.dest is not None and self.completes_review(t))

    @property
    def recommending(self) -> frozenset[str]:
        """Its triggers that record a recommendation to the decision makers (their effect
        RECOMMEND_EFFECT)."""
        return frozenset(t.name for t in self.all_triggers
                         if t.effect_name == RECOMMEND_EFFECT)

    @property
    def meets_in(self) -> frozenset[str]:
        """The states a meeting is held in: where the triggers lead that take the day of a
        meeting to come (a parameter that `invites`)."""
        return frozenset(t.dest for t in self.all_triggers
                         if t.dest is not None and any(p.invites for p in t.params))

    @property
    def amendment(self) -> TriggerSpec | None:
        """The trigger that corrects what a record was opened with: an internal one whose
        parameters are all the creating trigger's, none of them required."""
        opened = {p.name for p in self.create.params}
        return next((t for t in self.triggers if t.internal and t.params
                     and all(p.name in opened and not p.required for p in t.params)), None)

    def describe(self, *, starts_new: bool) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "label": self.label,
                "source": self.source, "starts_new_cases": starts_new, "opens": self.opens}
