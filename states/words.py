"""Words for people: the closed lists' values, the parameters, the timer levels and the roles
as e-mail, the command line and the portal show them.

A definition's identifiers (`serious_harm`, `chair_decision`, `publish`) are for scripts
and for what a person types; what a person reads is said here once, so every view says it
the same way. A value this table does not know still reads as words (`youth_offending`
becomes "youth offending"), never as an identifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING

from scr.states.corrections import CORRECT_LABEL, CORRECT_TRIGGER
from scr.states.migration import MIGRATE_LABEL, MIGRATE_TRIGGER

if TYPE_CHECKING:
    from scr.states.process import ProcessDefinition

VALUE_LABELS: Mapping[str, str] = {
    # Harm, abuse or neglect, grounds and route of a referral.
    "death": "death",
    "serious_harm": "serious harm",
    "other": "other",
    "known": "known",
    "suspected": "suspected",
    "not_suspected": "not suspected",
    "life_threatening_injury": "life-threatening injury",
    "serious_sexual_abuse": "serious sexual abuse",
    "parent_homicide": "homicide of a parent",
    "killed_by_parent_mental_illness": "killed by a parent with a mental illness",
    "death_in_custody": "death in custody",
    "child_death_review": "child death review",
    "professional": "professional",
    # The kind of review an agency thinks fit, a meeting recommends or is decided.
    "scr": "serious case review",
    "case_review": "case review",  # below the threshold of a serious case review
    "cspr": "local child safeguarding practice review",
    "no_review": "no review",
    "local_review": "local child safeguarding practice review",
    "national_review": "national review by the Panel",
    # Methodologies.
    "scie_systems": "SCIE systems model",
    "hot_debrief": "hot debrief",
    "police_debrief": "police debrief",
    "learning_review": "learning review",
    "traditional": "traditional review",
    "audit": "audit",
    # Publication outputs.
    "overview_report": "overview report",
    "executive_summary": "executive summary",
    "board_response": "board's response",
    "briefing": "learning briefing",
    # Proceedings, actions, flags.
    "pending": "pending",
    "concluded": "concluded",
    "none": "none",
    "open": "open",
    "completed": "completed",
    "signed_off": "signed off",
    "incomplete_returns": "returns incomplete",
    "urgent": "urgent",
    "scr_below_criteria": "serious case review below the criteria",
    "not_published": "not published",
    # Agencies and the safeguarding partners.
    "childrens_social_care": "children's social care",
    "health": "health",
    "police": "police",
    "education": "education",
    "voluntary_sector": "voluntary sector",
    "probation": "probation",
    "housing": "housing",
    "multi_agency": "multi-agency",
    "local_authority": "local authority",
    "integrated_care_board": "integrated care board",
    # The learning register: where a review comes from, and the default themes (states.
    # enums.DEFAULT_THEMES) where their words are not their identifiers'.
    "partnership_review": "another partnership's review",
    "thematic_review": "thematic review or briefing",
    "non_accidental_injury_in_infants": "non-accidental injury to infants",
    "sudden_unexpected_infant_death": "sudden unexpected death in infancy",
    "suicide_and_self_harm": "suicide and self-harm",
    # What an audit found of a review's learning.
    "embedded": "embedded",
    "partly_embedded": "partly embedded",
    "not_embedded": "not embedded",
}

PARAM_LABELS: Mapping[str, str] = {
    "aware_on": "Local authority aware on",
    "looked_after": "Looked-after child",
    "abuse": "Abuse or neglect",
    "agency_concern": "Concern about how agencies worked together",
    "grounds": "Grounds to consider a review",
    "referrer_agency": "Referring agency",
    "partner": "Safeguarding partner",
    "response": "The Panel's response",
    "criminal": "Criminal proceedings",
    "care": "Care proceedings",
    "expected_conclusion": "Expected to conclude",
    "key": "Action",
    "published_on": "Published",
    "starts_on": "Starts",
    "ends_on": "Ends",
    "trained": "People trained",
}

LEVEL_LABELS: Mapping[str, str] = {
    "reminder": "reminder",
    "escalation": "escalation",
    "overdue": "overdue",
    "due": "due",
    "chair": "final escalation",
    "check": "check",
    "blocked": "could not happen",
    "transition": "automatic step",
}

# The roles as the Serious Case Review names them; a definition's `words` may name a role
# its own way under the key "role:<role>" (the CSPR's rapid review meeting chair).
ROLE_LABELS: Mapping[str, str] = {
    "business_manager": "business manager",
    "chair": "independent chair",
    "subgroup_chair": "case review sub-group chair",
    "subgroup_member": "case review sub-group member",
    "agency_lead": "agency safeguarding lead",
    "lead_reviewer": "lead reviewer",
    "auditor": "auditor",
    "action_owner": "action owner",
    "safeguarding_partner": "safeguarding partner",
    "scrutineer": "independent scrutineer",
    "lead_safeguarding_partner": "lead safeguarding partner",
    "partnership_chair": "partnership chair",
    "system": "scr (automatic)",
}

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def as_words(identifier: str) -> str:
    """Any identifier as words: underscores become spaces."""
    return " ".join(identifier.replace("_", " ").split())


def value_label(value: str) -> str:
    """A value of a closed list (or an agency) as words: `serious_harm` -> "serious harm"."""
    return VALUE_LABELS.get(value, as_words(value))


def capital(text: str) -> str:
    """The text with its first letter a capital, the rest as it is."""
    return text[:1].upper() + text[1:]


def value_words(value: str) -> str:
    """A value as a list or table shows it: `childrens_social_care` -> "Children's social
    care"."""
    return capital(value_label(value))


def param_label(name: str) -> str:
    """A parameter's name as a heading: `meeting_date` -> "Meeting date"."""
    return PARAM_LABELS.get(name) or capital(as_words(name))


def level_label(level: str) -> str:
    return LEVEL_LABELS.get(level, as_words(level))


def role_words(definition: ProcessDefinition | None) -> dict[str, str]:
    """Every role's label in the definition's words."""
    own = definition.words if definition is not None else {}
    return {role: own.get(f"role:{role}", label) for role, label in ROLE_LABELS.items()}


def role_label(role: str, definition: ProcessDefinition | None = None) -> str:
    return role_words(definition).get(role, as_words(role))


def state_label(definition: ProcessDefinition | None, state: str) -> str:
    """The state's label in the definition, or the state as words."""
    if definition is not None and state in definition.state_labels:
        return definition.state_label(state)
    return capital(as_words(state))


def trigger_label(definition: ProcessDefinition | None, trigger: str) -> str:
    """A trigger's label in the definition; the history row of a case moved to another
    version (states.migration) by its own words; else the name as words."""
    spec = definition.trigger(trigger) if definition is not None else None
    if spec is None and trigger == MIGRATE_TRIGGER:
        return MIGRATE_LABEL
    if spec is None and trigger == CORRECT_TRIGGER:
        return CORRECT_LABEL
    return spec.label if spec is not None else as_words(trigger)


def timer_label(definition: ProcessDefinition | None, ladder: str, level: str | None = None,
                key: str | None = None) -> str:
    """A timer as people name it: "Agency returns due (overdue)", "Action due (action 2,
    reminder)"; a ladder's `due` level is the deadline itself: "Rapid review due"."""
    spec = definition.timer(ladder) if definition is not None else None
    base = spec.label if spec is not None else as_words(ladder).capitalize()
    extras = [f"action {key}"] if key else []
    if level is not None and not (level == "due" and base.endswith(" due")):
        extras.append(level_label(level))
    return f"{base} ({', '.join(extras)})" if extras else base


def plural(n: int, unit: str) -> str:
    """ "1 minute", "2 hours"."""
    return f"{n} {unit}{'' if n == 1 else 's'}"


def span(delta: timedelta) -> str:
    """A length of time in words, to the minute: "2 days, 3 hours and 5 minutes"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [plural(n, unit) for n, unit in ((days, "day"), (hours, "hour"),
                                             (minutes, "minute")) if n]
    if not parts:
        return "less than a minute"
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def day_label(day: date) -> str:
    """A calendar day for people, whatever the locale: "6 February 2025"."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
