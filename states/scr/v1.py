"""The Serious Case Review process, version 1 (`scr`, "1"): the lifecycle of a Serious Case
Review or a case review under the LSCB Regulations 2006 and Working Together to Safeguard
Children 2013 and 2015 (see docs/lifecycle-scr-v1.md for the picture, docs/regimes.md for the
sources).

Every rule is data here: the triggers with their sources, destination, roles, parameters,
guards (states.guards), the effect they record and the people their e-mail goes to
(states.recipients); the timer ladders (states.planning) with their default distances.
Cases started under this version keep these rules for the whole of their life: change the
process by adding a new version beside this one (states.registry), never by editing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from scr.states import guards, recipients
from scr.states.criteria import assess
from scr.states.enums import (
    STATE_LABELS,
    Abuse,
    Ground,
    Harm,
    Kind,
    Methodology,
    OutputKind,
    Proceedings,
    ReviewKind,
    Role,
    Route,
    State,
)
from scr.states.facts import PANEL_NOTIFIED_ON, Record
from scr.states.params import Param, PType
from scr.states.planning import CONDITIONS
from scr.states.process import (
    ENTER,
    NO_REVIEW,
    WITHDRAWN,
    Level,
    ProcessDefinition,
    RoleRule,
    TimerSpec,
    TriggerSpec,
)

S = State
R = Role


def _choices(enum: type) -> tuple[str, ...]:
    return tuple(str(v) for v in enum)  # type: ignore[attr-defined]


def roles(*names: Role) -> tuple[RoleRule, ...]:
    return tuple(RoleRule(r) for r in names)


BM = RoleRule(R.BUSINESS_MANAGER)
SYSTEM = RoleRule(R.SYSTEM)

REFERRAL_PARAMS = (
    # Every e-mail names the case by its pseudonym already; the day of the incident is
    # none of e-mail's business.
    Param("pseudonym", PType.TEXT, max_length=80, free_text=True, mailed=False,
          help="the name the case is known by"),
    Param("incident_date", PType.DATE, not_future=True, mailed=False),
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
    replace(p, required=False, default=None) for p in REFERRAL_PARAMS if p.name != "pseudonym"
)

AGENCIES = Param("agencies", PType.AGENCIES, help="agencies to ask")
URGENT = Param("urgent", PType.BOOL, required=False, default=False)

# Opens a case; the engine records it (there is no state to leave).
REFER = TriggerSpec(
    "refer", "Case referred for consideration", (), S.REFERRAL, (BM,),
    params=REFERRAL_PARAMS, notify=("chair",), effect=None, criteria=True,
    help="Record a referral (creates the case).",
)

TRIGGERS: tuple[TriggerSpec, ...] = (
    TriggerSpec(
        "request_information", "Information requested from agencies",
        (S.REFERRAL,), S.INFORMATION_REQUEST, (BM,),
        params=(AGENCIES, URGENT), guards=("agencies_named",),
        notify=("agency_leads:params", "subgroup_chair"),
        help="Ask agencies for a written summary of their involvement and their view.",
    ),
    TriggerSpec(
        "withdraw", "Referral withdrawn", (S.REFERRAL, S.INFORMATION_REQUEST), S.CLOSED, (BM,),
        guards=("reason_given",), effect="close", decision=WITHDRAWN,
        notify=("chair", "subgroup_chair", "agency_leads:asked"),
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
            Param("view", PType.CHOICE, choices=_choices(ReviewKind)),
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
            Param("meeting_date", PType.DATE, required=False, invites=True),
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
        params=(Param("recommendation", PType.CHOICE, choices=_choices(ReviewKind)),),
        guards=("quorate_meeting_recorded", "reason_given"), criteria=True,
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
        effect="commission", criteria=True, decision=Kind.SCR,
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
        effect="commission", criteria=True, decision=Kind.CASE_REVIEW,
        notify=("chair", "subgroup_chair", "lead_reviewer", "agency_leads:asked"),
        help="Commission a case review below the SCR threshold.",
    ),
    TriggerSpec(
        "decide_no_review", "Decision: no review", (S.CHAIR_DECISION,), S.CLOSED,
        roles(R.CHAIR), guards=("criteria_not_met", "reason_given"), criteria=True,
        decision=NO_REVIEW, notify=("chair", "subgroup_chair", "agency_leads:asked"),
        help="Decide that no review is held; the national panel must have the decision and "
        "reasons within 14 days.",
    ),
    TriggerSpec(
        "refer_back", "Referred back to the sub-group", (S.CHAIR_DECISION,), S.SUB_GROUP,
        roles(R.CHAIR), guards=("reason_given",), criteria=True, notify=("subgroup_chair",),
        help="Send the case back to the sub-group, with a reason.",
    ),
    TriggerSpec(
        "record_milestone", "Review milestone recorded", (S.REVIEW,), None,
        roles(R.LEAD_REVIEWER, R.BUSINESS_MANAGER),
        # The milestone is kept only in history (it changes nothing else), never mailed.
        params=(Param("milestone", PType.TEXT, max_length=300, free_text=True, mailed=False,
                      help="what was reached, e.g. practitioner event held"),),
        notify=("lead_reviewer",), effect=None,
        help="Record a milestone of the review (e.g. practitioner event held).",
    ),
    TriggerSpec(
        "complete_review", "Review completed; report on publication hold", (S.REVIEW,),
        S.PUBLICATION_HOLD, roles(R.BUSINESS_MANAGER, R.LEAD_REVIEWER),
        params=(Param("report", PType.TEXT, max_length=300, free_text=True,
                      help="title of the final report"),),
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
            # A file path or address often carries the family's name: not mailed.
            Param("location", PType.TEXT, required=False, default="", max_length=500,
                  free_text=True, mailed=False, help="where the output is kept"),
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
            # The actions table keeps the description: history and e-mail do not.
            Param("description", PType.TEXT, max_length=1000, free_text=True, mailed=False,
                  in_history=False, help="what is to be done"),
            Param("owner", PType.TEXT, max_length=100, free_text=True,
                  help="a user name, or a post holder"),
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
            Param("action", PType.INT, names_action=True, help="the action's number"),
            Param("evidence", PType.LONG_TEXT, private=True, max_length=5000),
        ),
        guards=("action_open", "evidence_given"), notify=("subgroup_chair",),
        help="Record an action as completed, with evidence.",
    ),
    TriggerSpec(
        "sign_off_action", "Action signed off", (S.PUBLISHED,), None, roles(R.SUBGROUP_CHAIR),
        params=(Param("action", PType.INT, names_action=True),), guards=("action_completed",),
        notify=("agency_leads:action", "action_owner"),
        help="Sign off a completed action.",
    ),
    TriggerSpec(
        "sign_off_actions", "Action plan signed off", (S.PUBLISHED,), S.ACTIONS_SIGNED_OFF,
        roles(R.SUBGROUP_CHAIR, R.CHAIR), guards=("all_actions_signed_off",), effect="close",
        notify=("chair", "subgroup_chair", "agency_leads:asked"),
        help="Close the case once every action is signed off.",
    ),
    TriggerSpec(
        "record_panel_notice", "National panel and Ofsted told of the decision",
        (S.REVIEW, S.CLOSED), None, (BM,),
        params=(Param("date", PType.DATE, not_future=True),),
        notify=("chair",), effect=None, records=(Record(PANEL_NOTIFIED_ON.name, "date"),),
        help="Record that the national panel and Ofsted were told of the decision, with "
        "reasons; stops the panel reminder.",
    ),
    TriggerSpec(
        "amend_referral", "Referral details amended",
        (S.REFERRAL, S.INFORMATION_REQUEST, S.SUB_GROUP, S.CHAIR_DECISION), None, (BM,),
        params=AMEND_PARAMS, guards=("amendment_given", "reason_given"), criteria=True,
        notify=("chair",),
        help="Correct the referral's facts before the decision (the criteria are assessed "
        "again), with a reason.",
    ),
)


TIMERS: tuple[TimerSpec, ...] = (
    TimerSpec(
        "triage", "Triage of the referral", S.REFERRAL, (ENTER,),
        (Level("reminder", "entered", ("business_manager",)),
         Level("escalation", "entered", ("chair",))),
    ),
    TimerSpec(
        "returns", "Agency returns due", S.INFORMATION_REQUEST,
        (ENTER, "add_agency", "record_return"),
        (Level("reminder", "returns_due", ("agency_leads:outstanding",)),
         Level("overdue", "returns_due", ("agency_leads:outstanding", "business_manager"))),
        when="returns_outstanding", invite="overdue",
    ),
    TimerSpec(
        "returns_auto_submit", "Automatic submission to the sub-group", S.INFORMATION_REQUEST,
        (ENTER, "add_agency"), (Level("transition", "returns_due"),),
        fires="submit_to_sub_group",
    ),
    TimerSpec(
        "recommendation", "Sub-group recommendation due", S.SUB_GROUP, (ENTER, "record_meeting"),
        (Level("escalation", "meeting", ("subgroup_chair",)),
         Level("chair", "previous", ("chair",))),
        invite="escalation",
    ),
    TimerSpec(
        "decision", "Chair's decision due", S.CHAIR_DECISION, (ENTER,),
        (Level("reminder", "entered", ("chair",)),
         Level("due", "referred", ("chair", "business_manager"))),
        invite="due",
    ),
    TimerSpec(
        "panel", "National panel to be told of the decision", S.CLOSED, (ENTER,),
        (Level("reminder", "decided", ("business_manager",)),
         Level("due", "decided", ("business_manager",))),
        disarm_on=("record_panel_notice",), enter_via=("decide_no_review",), invite="due",
    ),
    TimerSpec(
        "completion", "Review completion due", S.REVIEW, (ENTER,),
        (Level("reminder", "commissioned", ("lead_reviewer", "business_manager")),
         Level("due", "commissioned", ("chair", "lead_reviewer", "business_manager")),
         Level("overdue", "commissioned", ("chair", "business_manager"), recurring=True)),
        invite="due",
    ),
    TimerSpec(
        "proceedings_check", "Proceedings status check", S.PUBLICATION_HOLD,
        (ENTER, "record_proceedings"),
        (Level("check", "armed", ("business_manager",), recurring=True),),
        when="proceedings_pending",
    ),
    TimerSpec(
        "long_hold", "Twelve months on publication hold", S.PUBLICATION_HOLD, (ENTER,),
        (Level("escalation", "entered", ("chair",)),),
    ),
    TimerSpec(
        "publication", "Scheduled publication", S.PUBLICATION_HOLD, ("schedule_publication",),
        # Recurring: a timed publication refused (proceedings pending, an output missing)
        # is announced to the chair and tried again every week (5 working days) until it
        # goes through, someone publishes by hand, or it is rescheduled.
        (Level("transition", "publication_date", recurring=True),), fires="publish",
        invite="transition",
        refused=Level("blocked", "publication_date", ("chair",)),
    ),
    TimerSpec(
        "action", "Action due", S.PUBLISHED, ("add_action",),
        (Level("reminder", "action_due", ("action_owner",)),
         Level("overdue", "action_due", ("subgroup_chair", "action_owner"))),
        disarm_on=("complete_action",), per_action=True, invite="overdue",
    ),
)

DEFAULT_OFFSETS: Mapping[str, str] = {
    "notice_period": "7wd",
    "returns.due": "10wd",
    "triage.reminder": "3wd",
    "triage.escalation": "5wd",
    "returns.reminder": "-2wd",
    "returns.overdue": "0wd",
    "returns_auto_submit.transition": "5wd",
    "recommendation.escalation": "1wd",
    "recommendation.without_meeting": "20wd",
    "recommendation.chair": "5wd",
    "decision.reminder": "15wd",
    "decision.due": "1m",
    "panel.reminder": "10d",
    "panel.due": "14d",
    "completion.reminder": "5m",
    "completion.due": "6m",
    "completion.overdue": "7m",
    "completion.overdue.every": "1m",
    "proceedings_check.check": "20wd",
    "proceedings_check.check.every": "20wd",
    "long_hold.escalation": "12m",
    "publication.transition": "0d",
    "publication.transition.every": "5wd",
    "action.reminder": "-5wd",
    "action.overdue": "1wd",
}


DEFINITION = ProcessDefinition(
    name="scr",
    version="1",
    label="Serious Case Review",
    source="Local Safeguarding Children Boards Regulations 2006, reg. 5; Working Together "
    "to Safeguard Children 2013 and 2015, chapter 4; Working Together 2010, chapter 8",
    states=tuple(s.value for s in State),
    state_labels=MappingProxyType({s.value: label for s, label in STATE_LABELS.items()}),
    initial=S.REFERRAL.value,
    finals=frozenset({S.ACTIONS_SIGNED_OFF.value, S.CLOSED.value}),
    create=REFER,
    triggers=TRIGGERS,
    timers=TIMERS,
    default_offsets=MappingProxyType(dict(DEFAULT_OFFSETS)),
    guards=guards.GUARDS,
    input_guards=frozenset(guards.INPUT_GUARDS),
    recipients=recipients.RECIPIENTS,
    conditions=CONDITIONS,
    criteria=assess,
    facts=(PANEL_NOTIFIED_ON,),
)
