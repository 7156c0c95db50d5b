"""The vocabulary of the processes: states, roles and every closed list of values."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    REFERRAL = "referral"
    INFORMATION_REQUEST = "information_request"
    SUB_GROUP = "sub_group"
    CHAIR_DECISION = "chair_decision"
    REVIEW = "review"
    PUBLICATION_HOLD = "publication_hold"
    PUBLISHED = "published"
    ACTIONS_SIGNED_OFF = "actions_signed_off"
    CLOSED = "closed"


class Role(StrEnum):
    BUSINESS_MANAGER = "business_manager"
    CHAIR = "chair"
    SUBGROUP_CHAIR = "subgroup_chair"
    SUBGROUP_MEMBER = "subgroup_member"
    AGENCY_LEAD = "agency_lead"
    LEAD_REVIEWER = "lead_reviewer"
    AUDITOR = "auditor"
    # Child Safeguarding Practice Reviews: one of the three safeguarding partners (the user's
    # agency names which: PARTNERS), who decide together in place of an independent chair;
    # and the independent scrutineer, who may read everything and is told of decisions.
    SAFEGUARDING_PARTNER = "safeguarding_partner"
    SCRUTINEER = "scrutineer"
    # Working Together 2023 (chapter 2): the lead safeguarding partners (the chief executives
    # of the local authority and the integrated care board, and the chief officer of
    # police: the user's agency says which), who answer for the arrangements and may
    # delegate their decisions to the delegated safeguarding partners (the role
    # safeguarding_partner, so named in CSPR version 2's words); and the partnership chair
    # they agree. CSPR version 2 tells them of decisions and lets a lead partner act.
    LEAD_SAFEGUARDING_PARTNER = "lead_safeguarding_partner"
    PARTNERSHIP_CHAIR = "partnership_chair"
    # The daemon's own role: fires timed transitions and timer notices; no user may hold it.
    SYSTEM = "system"


USER_ROLES = tuple(r for r in Role if r is not Role.SYSTEM)

# The roles whose people use the command line (`scr` on the board's server): the business
# manager, who keeps the board's casework, users, mail and backups there and records what
# others decide on their behalf (`scr --as NAME`); and the auditor, who takes backups, which
# only the command line does (SECURITY.md, "Who may do what" and "Identity on the command
# line"). Everyone else acts in the portal (README.md, "The portal"). E-mail shows a
# command line to these roles only; anyone else is pointed to the portal's forms.
COMMAND_LINE_ROLES: frozenset[Role] = frozenset({Role.BUSINESS_MANAGER, Role.AUDITOR})


class Kind(StrEnum):
    SCR = "scr"
    CASE_REVIEW = "case_review"
    CSPR = "cspr"  # a local child safeguarding practice review


class Harm(StrEnum):
    DEATH = "death"
    SERIOUS_HARM = "serious_harm"
    OTHER = "other"


class Abuse(StrEnum):
    KNOWN = "known"
    SUSPECTED = "suspected"
    NOT_SUSPECTED = "not_suspected"


class Ground(StrEnum):
    LIFE_THREATENING_INJURY = "life_threatening_injury"
    SERIOUS_SEXUAL_ABUSE = "serious_sexual_abuse"
    PARENT_HOMICIDE = "parent_homicide"
    KILLED_BY_PARENT_MENTAL_ILLNESS = "killed_by_parent_mental_illness"
    DEATH_IN_CUSTODY = "death_in_custody"


class Route(StrEnum):
    CHILD_DEATH_REVIEW = "child_death_review"
    PROFESSIONAL = "professional"


class ReviewKind(StrEnum):
    """The kind of review an agency thinks fit (its `view` in a return), or the sub-group
    recommends."""

    SCR = "scr"
    CASE_REVIEW = "case_review"
    NO_REVIEW = "no_review"


class Methodology(StrEnum):
    SCIE_SYSTEMS = "scie_systems"
    HOT_DEBRIEF = "hot_debrief"
    POLICE_DEBRIEF = "police_debrief"
    LEARNING_REVIEW = "learning_review"
    TRADITIONAL = "traditional"
    AUDIT = "audit"


class OutputKind(StrEnum):
    OVERVIEW_REPORT = "overview_report"
    EXECUTIVE_SUMMARY = "executive_summary"
    BOARD_RESPONSE = "board_response"
    BRIEFING = "briefing"


class Proceedings(StrEnum):
    PENDING = "pending"
    CONCLUDED = "concluded"
    NONE = "none"


# What a quality assurance audit found of a review's learning (record_audit).
FINDINGS = ("embedded", "partly_embedded", "not_embedded")


class ActionStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    SIGNED_OFF = "signed_off"


class Flag(StrEnum):
    INCOMPLETE_RETURNS = "incomplete_returns"
    URGENT = "urgent"
    SCR_BELOW_CRITERIA = "scr_below_criteria"
    # The chair decided not to publish the report (SCR version 2): the case reached
    # `published` with no public outputs, and its action plan is monitored there.
    NOT_PUBLISHED = "not_published"


CORE_AGENCIES = (
    "childrens_social_care",
    "health",
    "police",
    "education",
    "voluntary_sector",
    "probation",
    "housing",
)
MULTI_AGENCY = "multi_agency"
# The three safeguarding partners of an area (Children Act 2004, s. 16E, as amended by the
# Children and Social Work Act 2017; Working Together 2023): a safeguarding_partner user's
# agency is one of these.
PARTNERS = ("local_authority", "integrated_care_board", "police")
# A meeting may recommend only when these three are present (the `recommend` guard).
QUORUM_AGENCIES = ("childrens_social_care", "health", "police")

FINAL_STATES = frozenset({State.ACTIONS_SIGNED_OFF, State.CLOSED})
INITIAL_STATE = State.REFERRAL

STATE_LABELS = {
    State.REFERRAL: "Referral",
    State.INFORMATION_REQUEST: "Information request",
    State.SUB_GROUP: "Case review sub-group",
    State.CHAIR_DECISION: "Independent chair's decision",
    State.REVIEW: "Review under way",
    State.PUBLICATION_HOLD: "Publication hold",
    State.PUBLISHED: "Published; action plans monitored",
    State.ACTIONS_SIGNED_OFF: "Actions signed off",
    State.CLOSED: "Closed",
}


# The themes a review from elsewhere may be filed under (the learning register), as a board
# has them by default: the recurring themes of the national analyses of serious case reviews
# (the triennial analyses, 2008-2017) and of the Child Safeguarding Practice Review Panel's
# annual reports. A board sets its own (`[learning] themes`).
DEFAULT_THEMES = (
    "neglect", "domestic_abuse", "parental_mental_health", "parental_substance_misuse",
    "non_accidental_injury_in_infants", "sudden_unexpected_infant_death", "sexual_abuse",
    "child_sexual_exploitation", "criminal_exploitation", "adolescent_risk",
    "suicide_and_self_harm", "online_harm", "disabled_children", "looked_after_children",
    "voice_of_the_child", "information_sharing", "risk_assessment", "professional_curiosity",
    "working_with_fathers", "elective_home_education",
)
