"""The process of SPEC §3 as data: every trigger with its sources, destination, roles,
parameters, guards and the people its e-mail goes to.

Change the process here and bump VERSION: each case records the version it started under.
"""

from __future__ import annotations

from dataclasses import dataclass

from states.enums import (
    USER_ROLES,
    Abuse,
    Ground,
    Harm,
    Methodology,
    OutputKind,
    Proceedings,
    Role,
    Route,
    State,
    View,
)
from states.params import Param, PType

VERSION = "1"

S = State
R = Role


@dataclass(frozen=True)
class RoleRule:
    """A role that may fire a trigger; `scope` narrows an agency lead to one agency.

    scope "param": the agency named by the `agency` parameter; "action": the agency of the
    action named by the `action` parameter.
    """

    role: Role
    scope: str | None = None


@dataclass(frozen=True)
class TriggerSpec:
    name: str
    label: str
    sources: tuple[State, ...]
    dest: State | None  # None: an internal transition, recording data without moving
    roles: tuple[RoleRule, ...]
    params: tuple[Param, ...] = ()
    guards: tuple[str, ...] = ()
    # Recipient selectors (see RECIPIENTS); the business manager is always added.
    notify: tuple[str, ...] = ()
    timed: bool = False  # the daemon may fire it as the system actor
    help: str = ""

    @property
    def internal(self) -> bool:
        return self.dest is None

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def _choices(enum: type) -> tuple[str, ...]:
    return tuple(str(v) for v in enum)  # type: ignore[attr-defined]


def roles(*names: Role) -> tuple[RoleRule, ...]:
    return tuple(RoleRule(r) for r in names)


BM = RoleRule(R.BUSINESS_MANAGER)
SYSTEM = RoleRule(R.SYSTEM)

REFERRAL_PARAMS = (
    Param("pseudonym", PType.TEXT, max_length=80, help="the name the case is known by"),
    Param("incident_date", PType.DATE, not_future=True),
    Param("harm", PType.CHOICE, choices=_choices(Harm)),
    Param("abuse", PType.CHOICE, choices=_choices(Abuse)),
    Param("agency_concern", PType.BOOL, required=False, default=False,
          help="cause for concern about how agencies worked together"),
    Param("grounds", PType.CHOICES, required=False, default=[], choices=_choices(Ground)),
    Param("route", PType.CHOICE, choices=_choices(Route)),
    Param("referrer_agency", PType.AGENCY, required=False),
    Param("criminal_proceedings", PType.BOOL, required=False, default=False),
    Param("summary", PType.LONG_TEXT, required=False, default="", private=True,
          max_length=20000, help="the case for consideration; never e-mailed or logged"),
)

# Amendments take any referral field but the pseudonym's free-text companions; all optional.
AMEND_PARAMS = tuple(
    Param(p.name, p.type, required=False, default=None, choices=p.choices,
          not_future=p.not_future, private=p.private, max_length=p.max_length, help=p.help)
    for p in REFERRAL_PARAMS
    if p.name != "pseudonym"
)

AGENCIES = Param("agencies", PType.AGENCIES, help="agencies to ask")
URGENT = Param("urgent", PType.BOOL, required=False, default=False)

TRIGGERS: tuple[TriggerSpec, ...] = (
    TriggerSpec(
        "refer", "Case referred for consideration", (), S.REFERRAL, (BM,),
        params=REFERRAL_PARAMS, notify=("chair",),
        help="Record a referral (creates the case).",
    ),
    TriggerSpec(
        "request_information", "Information requested from agencies",
        (S.REFERRAL,), S.INFORMATION_REQUEST, (BM,),
        params=(AGENCIES, URGENT), guards=("agencies_named",),
        notify=("agency_leads:params", "subgroup_chair"),
        help="Ask agencies for a written summary of their involvement and their view.",
    ),
    TriggerSpec(
        "withdraw", "Referral withdrawn", (S.REFERRAL, S.INFORMATION_REQUEST), S.CLOSED, (BM,),
        guards=("reason_given",), notify=("chair", "subgroup_chair", "agency_leads:asked"),
        help="Withdraw the referral, with a reason.",
    ),
    TriggerSpec(
        "add_agency", "Another agency asked for information", (S.INFORMATION_REQUEST,), None,
        (BM,), params=(Param("agency", PType.AGENCY),), guards=("agency_not_already_asked",),
        notify=("agency_leads:params",),
        help="Ask one more agency; its return is due 10 working days from now.",
    ),
    TriggerSpec(
        "record_return", "Agency return received", (S.INFORMATION_REQUEST,), None,
        (RoleRule(R.AGENCY_LEAD, "param"), BM),
        params=(
            Param("agency", PType.AGENCY),
            Param("view", PType.CHOICE, choices=_choices(View)),
            Param("summary", PType.LONG_TEXT, private=True, max_length=20000,
                  help="the agency's summary of involvement; never e-mailed or logged"),
        ),
        guards=("agency_asked_and_not_returned",), notify=("agency_leads:params",),
        help="Record an agency's summary of involvement and its view on the kind of review.",
    ),
    TriggerSpec(
        "submit_to_sub_group", "Case submitted to the case review sub-group",
        (S.INFORMATION_REQUEST,), S.SUB_GROUP, (BM, SYSTEM),
        params=(
            Param("meeting_date", PType.DATE, required=False),
            Param("urgent", PType.BOOL, required=False),
        ),
        guards=("returns_in_or_deadline_passed",),
        notify=("subgroup_chair", "subgroup_members"), timed=True,
        help="Put the returns before the sub-group; automatic at the deadline + 5 working "
        "days, flagged incomplete_returns.",
    ),
    TriggerSpec(
        "record_meeting", "Sub-group meeting recorded", (S.SUB_GROUP,), None,
        roles(R.BUSINESS_MANAGER, R.SUBGROUP_CHAIR),
        params=(
            Param("date", PType.DATE, not_future=True),
            Param("attendees", PType.AGENCIES, help="agencies present"),
        ),
        notify=("subgroup_chair", "subgroup_members"),
        help="Record a sub-group meeting that considered the case and who attended.",
    ),
    TriggerSpec(
        "request_more_information", "Sub-group asked for more information",
        (S.SUB_GROUP,), S.INFORMATION_REQUEST, roles(R.SUBGROUP_CHAIR),
        params=(AGENCIES,), guards=("agencies_named",),
        notify=("agency_leads:params", "subgroup_chair"),
        help="Send the case back to agencies for more information.",
    ),
    TriggerSpec(
        "recommend", "Sub-group recommendation made", (S.SUB_GROUP,), S.CHAIR_DECISION,
        roles(R.SUBGROUP_CHAIR),
        params=(Param("recommendation", PType.CHOICE, choices=_choices(View)),),
        guards=("quorate_meeting_recorded", "reason_given"),
        notify=("chair", "subgroup_chair"),
        help="Recommend to the independent chair: scr, case_review or no_review.",
    ),
    TriggerSpec(
        "commission_scr", "Serious Case Review commissioned", (S.CHAIR_DECISION,), S.REVIEW,
        roles(R.CHAIR),
        params=(
            Param("methodology", PType.CHOICE, choices=_choices(Methodology)),
            Param("lead_reviewer", PType.TEXT, max_length=100),
        ),
        guards=("methodology_and_reviewer_given", "rationale_if_criteria_not_met"),
        notify=("chair", "subgroup_chair", "lead_reviewer", "agency_leads:asked"),
        help="Commission an SCR; where the criteria are not met a rationale is required.",
    ),
    TriggerSpec(
        "commission_case_review", "Case review commissioned", (S.CHAIR_DECISION,), S.REVIEW,
        roles(R.CHAIR),
        params=(
            Param("methodology", PType.CHOICE, choices=_choices(Methodology)),
            Param("lead_reviewer", PType.TEXT, max_length=100),
        ),
        guards=("methodology_and_reviewer_given", "criteria_not_met"),
        notify=("chair", "subgroup_chair", "lead_reviewer", "agency_leads:asked"),
        help="Commission a case review below the SCR threshold.",
    ),
    TriggerSpec(
        "decide_no_review", "Decision: no review", (S.CHAIR_DECISION,), S.CLOSED,
        roles(R.CHAIR), guards=("criteria_not_met", "reason_given"),
        notify=("chair", "subgroup_chair", "agency_leads:asked"),
        help="Decide that no review is held; the national panel must have the decision and "
        "reasons within 14 days.",
    ),
    TriggerSpec(
        "refer_back", "Referred back to the sub-group", (S.CHAIR_DECISION,), S.SUB_GROUP,
        roles(R.CHAIR), guards=("reason_given",), notify=("subgroup_chair",),
        help="Send the case back to the sub-group, with a reason.",
    ),
    TriggerSpec(
        "record_milestone", "Review milestone recorded", (S.REVIEW,), None,
        roles(R.LEAD_REVIEWER, R.BUSINESS_MANAGER),
        params=(Param("milestone", PType.TEXT, max_length=300),),
        notify=("lead_reviewer",),
        help="Record a milestone of the review (e.g. practitioner event held).",
    ),
    TriggerSpec(
        "complete_review", "Review completed; report on publication hold", (S.REVIEW,),
        S.PUBLICATION_HOLD, roles(R.BUSINESS_MANAGER, R.LEAD_REVIEWER),
        params=(Param("report", PType.TEXT, max_length=300, help="title of the final report"),),
        guards=("report_given",), notify=("chair", "subgroup_chair", "lead_reviewer"),
        help="The final report is complete; it waits on publication hold.",
    ),
    TriggerSpec(
        "record_proceedings", "Proceedings status recorded", (S.PUBLICATION_HOLD,), None, (BM,),
        params=(
            Param("criminal", PType.CHOICE, required=False, choices=_choices(Proceedings)),
            Param("care", PType.CHOICE, required=False, choices=_choices(Proceedings)),
            Param("expected_conclusion", PType.DATE, required=False),
        ),
        notify=("chair",),
        help="Record the status of parallel criminal and care proceedings.",
    ),
    TriggerSpec(
        "record_output", "Publication output recorded", (S.PUBLICATION_HOLD,), None, (BM,),
        params=(
            Param("output", PType.CHOICE, choices=_choices(OutputKind)),
            Param("location", PType.TEXT, required=False, default="", max_length=500),
        ),
        help="Record an output ready for publication and where it is kept.",
    ),
    TriggerSpec(
        "send_prepublication_notice", "Pre-publication notice sent to Ofsted and the Department",
        (S.PUBLICATION_HOLD,), None, (BM,), notify=("chair",),
        help="Record that the report was sent to Ofsted and the Department; the notice "
        "period starts now.",
    ),
    TriggerSpec(
        "schedule_publication", "Publication scheduled", (S.PUBLICATION_HOLD,), None, (BM,),
        params=(Param("date", PType.DATE),), guards=("publication_date_after_notice",),
        notify=("chair", "subgroup_chair", "lead_reviewer"),
        help="Schedule publication; the daemon publishes on the date if the guard holds.",
    ),
    TriggerSpec(
        "publish", "Report published", (S.PUBLICATION_HOLD,), S.PUBLISHED, (BM, SYSTEM),
        guards=("no_criminal_proceedings_pending", "notice_period_elapsed", "outputs_recorded"),
        notify=("chair", "subgroup_chair", "subgroup_members", "lead_reviewer",
                "agency_leads:asked"),
        timed=True,
        help="Publish; refused while criminal proceedings are pending.",
    ),
    TriggerSpec(
        "add_action", "Action added to the action plan", (S.PUBLISHED,), None,
        roles(R.BUSINESS_MANAGER, R.SUBGROUP_CHAIR),
        params=(
            Param("agency", PType.AGENCY, multi_agency=True),
            Param("description", PType.TEXT, max_length=1000),
            Param("owner", PType.TEXT, max_length=100, help="a user name, or a post holder"),
            Param("due", PType.DATE),
        ),
        guards=("action_fields_given",),
        notify=("subgroup_chair", "action_owner", "agency_leads:params"),
        help="Add an action to an agency's (or the multi-agency) action plan.",
    ),
    TriggerSpec(
        "complete_action", "Action completed", (S.PUBLISHED,), None,
        (RoleRule(R.AGENCY_LEAD, "action"), BM),
        params=(
            Param("action", PType.INT, help="the action's number"),
            Param("evidence", PType.LONG_TEXT, private=True, max_length=5000),
        ),
        guards=("action_open", "evidence_given"), notify=("subgroup_chair",),
        help="Record an action as completed, with evidence.",
    ),
    TriggerSpec(
        "sign_off_action", "Action signed off", (S.PUBLISHED,), None, roles(R.SUBGROUP_CHAIR),
        params=(Param("action", PType.INT),), guards=("action_completed",),
        notify=("agency_leads:action", "action_owner"),
        help="Sign off a completed action.",
    ),
    TriggerSpec(
        "sign_off_actions", "Action plan signed off", (S.PUBLISHED,), S.ACTIONS_SIGNED_OFF,
        roles(R.SUBGROUP_CHAIR, R.CHAIR), guards=("all_actions_signed_off",),
        notify=("chair", "subgroup_chair", "agency_leads:asked"),
        help="Close the case once every action is signed off.",
    ),
    TriggerSpec(
        "record_panel_notice", "National panel and Ofsted told of the decision",
        (S.REVIEW, S.CLOSED), None, (BM,),
        params=(Param("date", PType.DATE, not_future=True),),
        notify=("chair",),
        help="Record that the national panel and Ofsted were told of the decision, with "
        "reasons; stops the panel reminder.",
    ),
    TriggerSpec(
        "amend_referral", "Referral details amended",
        (S.REFERRAL, S.INFORMATION_REQUEST, S.SUB_GROUP, S.CHAIR_DECISION), None, (BM,),
        params=AMEND_PARAMS, guards=("amendment_given", "reason_given"), notify=("chair",),
        help="Correct the referral's facts before the decision (the criteria are assessed "
        "again), with a reason.",
    ),
)

# The daemon's timer firings are recorded as this internal trigger, in every state that
# arms timers; its history row names the timer and how late it fired.
TIMER_TRIGGER = TriggerSpec(
    "timer", "Timer fired",
    (S.REFERRAL, S.INFORMATION_REQUEST, S.SUB_GROUP, S.CHAIR_DECISION, S.REVIEW,
     S.PUBLICATION_HOLD, S.PUBLISHED, S.CLOSED),
    None, (SYSTEM,),
    params=(
        Param("timer", PType.TEXT, max_length=100, help="the ladder, e.g. triage"),
        Param("level", PType.TEXT, max_length=40, help="the level, e.g. reminder"),
        Param("key", PType.TEXT, required=False, max_length=20, help="the action number"),
    ),
    help="A reminder or escalation sent by the daemon.",
)

ALL_TRIGGERS = (*TRIGGERS, TIMER_TRIGGER)
TRIGGER_BY_NAME = {t.name: t for t in ALL_TRIGGERS}
CREATE_TRIGGER = "refer"

# How each recipient selector resolves, for the e-mail issue and for `scr help`.
RECIPIENTS = {
    "business_manager": "every business manager",
    "chair": "every independent chair",
    "subgroup_chair": "every sub-group chair",
    "subgroup_members": "every sub-group member",
    "lead_reviewer": "the case's lead reviewer",
    "agency_leads:params": "the leads of the agencies named in the trigger",
    "agency_leads:asked": "the leads of every agency asked on the case",
    "agency_leads:outstanding": "the leads of agencies whose return is outstanding",
    "agency_leads:action": "the lead of the action's agency",
    "action_owner": "the action's owner (or its agency's lead)",
}

ASSIGNABLE_ROLES = USER_ROLES


def transitions_from(state: State) -> tuple[TriggerSpec, ...]:
    """Every trigger that applies in `state`, the daemon's own included, in table order."""
    return tuple(t for t in ALL_TRIGGERS if state in t.sources)
