"""The Child Safeguarding Practice Review process, version 2 (`cspr`, "2"): version 1 with
the rules it had wrong and some it left out, against Working Together to Safeguard Children
2023 (as revised in December 2023 and 2025), the Child Safeguarding Practice Review and
Relevant Agency (England) Regulations 2018, the Child Safeguarding Practice Review Panel's
guidance for safeguarding partners (re-issued June 2025) and GOV.UK's "Report a serious
child safeguarding incident". docs/regimes.md gives the source of each rule. Cases begun
under version 1 keep its rules (`scr cases migrate` moves them, on the record).

What changes from version 1:

- no rapid review without a notification: asking agencies, the rapid review meeting, its
  recommendation, the partners' views and their decision are refused until the serious
  incident notification is recorded ("A rapid review cannot be undertaken without the
  prior submission of a Serious Incident Notification", the Panel's guidance);
- only a serious child safeguarding case (abuse or neglect known or suspected, and death or
  serious harm: Children Act 2004, s. 16C) has a rapid review and may have a local review.
  The death of a looked-after child, and of a care leaver up to and including the age of 24,
  is notified to the Secretary of State and Ofsted whatever its cause, but opens a rapid
  review only where abuse or neglect is known or suspected;
- a referral may say the child is a care leaver, was harmed outside England though normally
  resident here (s. 16C(1)(b)), or lives in another area, whose safeguarding partners are
  then to be told within 5 working days;
- withdrawing a notified serious incident needs the day the Panel was told that it does not
  meet the criteria, and the partners and the scrutineer hear of it;
- the rapid review's clock (15 working days from the notification) runs until the rapid
  review is sent to the Panel, past the partners' decision, with a repeat every 5 working
  days after it is due; the rapid review's content is the partners' private record;
- the Panel's answer: where it asks for the local review the partners decided against, the
  case goes back from `closed` to their decision, with the Panel's reasons; where it takes a
  national review, the local case records its support instead of running its own clock;
- during a local review, progress is checked monthly (the board may change it) and the
  review has its completion deadline (6 months from the decision) even while criminal
  proceedings or an inquest are pending; only publication waits for them.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from scr.states.case import CaseSnapshot
from scr.states.criteria import assess_cspr_v2
from scr.states.cspr import rules, v1
from scr.states.enums import PARTNERS, Role, State
from scr.states.facts import (
    CARE_LEAVER,
    INCIDENT,
    LIVES_IN_AREA,
    NATIONAL_REVIEW_SUPPORT_ON,
    NOTIFICATION_AGREED,
    OTHER_AREA_TOLD_ON,
    OUTSIDE_ENGLAND,
    PUBLIC_UNTIL,
    PUBLISHES,
    RAPID_REVIEW_RECORD,
    REPOSITORY_DEPOSITED_ON,
    WITHDRAWAL_TOLD_ON,
    Record,
)
from scr.states.migration import Migration
from scr.states.params import Param, PType
from scr.states.process import ENTER, Level, RoleRule, TimerSpec, TriggerSpec

S = State
R = Role
BM = RoleRule(R.BUSINESS_MANAGER)
PARTNER = RoleRule(R.SAFEGUARDING_PARTNER)
P = v1.P
PRE_DECISION = v1.PRE_DECISION
# What may be done only in a notified serious child safeguarding case.
RAPID_REVIEW_GUARD = "rapid_review_may_begin"
GUARDED = ("request_information", "submit_to_sub_group", "record_meeting", "recommend",
           "record_partner_view", "commission_practice_review", "decide_no_review")

CARE_LEAVER_PARAM = Param(
    CARE_LEAVER.name, PType.BOOL, required=False, default=False,
    help="the young person was a care leaver (up to and including the age of 24): their "
    "death is notified to the Secretary of State and Ofsted")
OUTSIDE_ENGLAND_PARAM = Param(
    OUTSIDE_ENGLAND.name, PType.BOOL, required=False, default=False,
    help="the child, normally resident here, died or was seriously harmed outside England")
LIVES_IN_AREA_PARAM = Param(
    LIVES_IN_AREA.name, PType.TEXT, required=False, max_length=100, mailed=False,
    help="the local authority area the child lives in, where it is not this one: its "
    "safeguarding partners are told within 5 working days")
INCIDENT_PARAM = Param(
    INCIDENT.name, PType.CASE, required=False,
    help="the case of another child of the same incident (a sibling group): each child has "
    "their own case, pseudonym and clocks. A death is notified for each child; serious harm "
    "to a sibling group is one notification, recorded on each child's case")
REFERRAL_PARAMS = (*v1.REFER.params, CARE_LEAVER_PARAM, OUTSIDE_ENGLAND_PARAM,
                   LIVES_IN_AREA_PARAM, INCIDENT_PARAM)
REFER = replace(v1.REFER, params=REFERRAL_PARAMS, records=tuple(
    Record(p.name, p.name) for p in (CARE_LEAVER_PARAM, OUTSIDE_ENGLAND_PARAM,
                                     LIVES_IN_AREA_PARAM, INCIDENT_PARAM)))

DAY = Param("date", PType.DATE, not_future=True)
PANEL_TOLD_ON = Param(
    "panel_told_on", PType.DATE, required=False, not_future=True,
    help="the day the Panel was told the case does not meet the criteria for a "
    "notification (needed once one was submitted)")

# The rapid review's parts, each a parameter of record_rapid_review kept in its own fact.
RAPID_REVIEW_PARTS = tuple(
    (Param(name, PType.LONG_TEXT, required=False, max_length=fact.max_length, free_text=True,
           mailed=False, in_history=False, help=fact.label), fact)
    for name, fact in zip(("involvement", "practice_episodes", "safety_actions", "learning",
                           "context"), RAPID_REVIEW_RECORD, strict=True))

NEW = {
    "record_rapid_review": TriggerSpec(
        "record_rapid_review", "The rapid review's record written",
        (S.SUB_GROUP, S.CHAIR_DECISION, S.REVIEW, S.CLOSED), None, (BM, PARTNER),
        params=tuple(param for param, _ in RAPID_REVIEW_PARTS),
        guards=("rapid_review_part_given",), notify=(P,), effect=None,
        records=tuple(Record(fact.name, param.name) for param, fact in RAPID_REVIEW_PARTS),
        help="Record what the rapid review found, as the partners' private record: the "
        "agencies' involvement, the key practice episodes, the immediate actions taken to "
        "keep children safe, the learning, and the context of the child's and family's "
        "lives, including how racism and other inequalities may have shaped what happened. "
        "Each part may be written or rewritten on its own."),
    "reopen_for_local_review": TriggerSpec(
        "reopen_for_local_review", "The Panel asked for a local review: back to the partners",
        (S.CLOSED,), S.CHAIR_DECISION, (BM, PARTNER),
        guards=("panel_asked_for_local_review", "reason_given"), effect="reopen",
        notify=(P, "scrutineer", "subgroup_chair"),
        help="The Panel disagreed with the decision not to hold a local review: take the case "
        "back to the safeguarding partners' decision, with the Panel's reasons."),
    "record_national_review_support": TriggerSpec(
        "record_national_review_support", "Support to the Panel's national review recorded",
        (S.REVIEW, S.CLOSED), None, (BM, PARTNER), params=(DAY,),
        guards=("panel_took_national_review",), notify=(P, "scrutineer", "lead_reviewer"),
        effect=None, records=(Record(NATIONAL_REVIEW_SUPPORT_ON.name, "date"),),
        help="Record that the partners gave the Panel's national review what it asked for; "
        "the local case runs no clock of its own while the Panel reviews."),
    "request_from_reviewer": TriggerSpec(
        "request_from_reviewer", "A written request to the lead reviewer",
        (S.REVIEW,), None, (BM, PARTNER),
        params=(Param("what", PType.CHOICE, choices=("information", "draft"),
                      help="information, or a draft of the report"),
                Param("wanted_by", PType.DATE, required=False,
                      help="the day it is wanted by")),
        notify=("lead_reviewer", P), effect=None,
        help="Record a written request to the lead reviewer for information or a draft "
        "(the partners' monitoring of the review, regulation 14); the request itself goes "
        "to the reviewer in writing as well."),
    "decide_what_to_publish": TriggerSpec(
        "decide_what_to_publish", "The partners' decision on what is published",
        (S.PUBLICATION_HOLD,), None, (PARTNER,),
        params=(Param("what", PType.CHOICE, choices=PUBLISHES.choices,
                      help="report: the review's report; improvements: information about "
                      "the improvements to be made, where the report is unsuitable"),),
        guards=("reason_given",), notify=(P, "scrutineer", "lead_reviewer"), effect=None,
        records=(Record(PUBLISHES.name, "what"),),
        help="The safeguarding partners decide, with their reasons, whether the report is "
        "published or, where they consider it unsuitable, information about the "
        "improvements that should be made."),
    "record_repository_deposit": TriggerSpec(
        "record_repository_deposit", "Deposited with the NSPCC national case review repository",
        (S.PUBLISHED, S.ACTIONS_SIGNED_OFF), None, (BM,), params=(DAY,),
        guards=("not_yet_deposited",), effect=None,
        records=(Record(REPOSITORY_DEPOSITED_ON.name, "date"),),
        help="Record the day the published review was deposited with the NSPCC national "
        "case review repository."),
    "link_incident": TriggerSpec(
        "link_incident", "Linked with another child of the same incident",
        (*PRE_DECISION, S.REVIEW, S.PUBLICATION_HOLD, S.PUBLISHED), None, (BM,),
        params=(replace(INCIDENT_PARAM, required=True),), notify=(P,), effect=None,
        records=(Record(INCIDENT.name, INCIDENT.name),),
        help="Link the case with the case of another child of the same incident (a sibling "
        "group), named by its reference."),
    "record_other_area_told": TriggerSpec(
        "record_other_area_told", "The other area's safeguarding partners told",
        (*PRE_DECISION, S.REVIEW, S.CLOSED), None, (BM,), params=(DAY,),
        guards=("other_area_to_tell",), notify=(P,), effect=None,
        records=(Record(OTHER_AREA_TOLD_ON.name, "date"),),
        help="Record the day the safeguarding partners of the area the child lives in were "
        "told of the incident (due within 5 working days of awareness)."),
}


# Working Together 2023, chapter 2: the lead safeguarding partners may act themselves where
# their delegated partners do, and are told, with the partnership chair, of the decisions.
LEAD = R.LEAD_SAFEGUARDING_PARTNER
TOLD_OF_DECISIONS = (LEAD.value, R.PARTNERSHIP_CHAIR.value)
DECISIONS_TOLD = ("commission_practice_review", "decide_no_review", "reopen_for_local_review",
                  "record_panel_response", "withdraw", "decide_what_to_publish")
# Version 1's partners' guards count three partners; version 2's count the partnership's
# (education too, where the board says so) and a lead partner acting for their own.
OWN_PARTNER_GUARDS = {"partners_agree_local_review": "partners_agree_on_local_review",
                      "partners_agree_no_review": "partners_agree_on_no_review"}
PARTNER_CHOICES = (*PARTNERS, rules.EDUCATION)


def _with_leads(spec: TriggerSpec) -> TriggerSpec:
    """`spec` with a lead safeguarding partner allowed wherever a delegated one is (in the
    same scope), the partners' guards version 2's, and the lead partners and the
    partnership chair told of the decisions."""
    roles = [*spec.roles]
    for rule in spec.roles:
        if rule.role == R.SAFEGUARDING_PARTNER:
            roles.insert(roles.index(rule) + 1, RoleRule(LEAD, rule.scope))
    guards = tuple(OWN_PARTNER_GUARDS.get(g, g) for g in spec.guards)
    notify = (*spec.notify, *TOLD_OF_DECISIONS) if spec.name in DECISIONS_TOLD \
        else spec.notify
    params = spec.params
    if spec.name == "record_partner_view":
        params = tuple(replace(p, choices=PARTNER_CHOICES) if p.name == "partner" else p
                       for p in spec.params)
        guards = ("partner_takes_part", *guards)
    return replace(spec, roles=tuple(roles), guards=guards, notify=notify, params=params)


def _changed(spec: TriggerSpec) -> TriggerSpec:
    spec = _with_leads(spec)
    if spec.name in GUARDED:
        spec = replace(spec, guards=(RAPID_REVIEW_GUARD, *spec.guards))
    if spec.name == "submit_to_sub_group":
        spec = replace(spec, help="Put the agencies' information before the rapid review "
                       "meeting; automatic 2 working days after the returns deadline, "
                       "flagged incomplete_returns.")
    if spec.name == "withdraw":
        spec = replace(
            spec, params=(PANEL_TOLD_ON,), guards=(*spec.guards, "panel_told_if_notified"),
            notify=(P, "scrutineer", *spec.notify),
            records=(Record(WITHDRAWAL_TOLD_ON.name, PANEL_TOLD_ON.name),),
            help="Withdraw the referral, with a reason. Once a serious incident was "
            "notified, only where it turns out not to meet the criteria for a "
            "notification, with the day the Panel was told.")
    if spec.name == "record_output":
        spec = replace(spec, params=tuple(
            replace(p, choices=(*p.choices, rules.IMPROVEMENT_INFORMATION))
            if p.name == "output" else p for p in spec.params))
    if spec.name == "publish":
        spec = replace(
            spec, guards=tuple("outputs_for_what_is_published" if g == "outputs_recorded"
                               else g for g in spec.guards),
            effect="publish_for_a_year",
            help="Publish the report, or the information about improvements the partners "
            "decided on; deferred while criminal proceedings or an inquest are pending. It "
            "stays publicly available for at least a year.")
    if spec.name == "record_notification":
        spec = replace(
            spec, label="Notification recorded",
            params=(*spec.params, Param(
                NOTIFICATION_AGREED.name, PType.BOOL, required=False, default=False,
                help="the safeguarding partners agreed that the incident is notified (the "
                "local authority notifies within the time whether or not they have)")),
            records=(*spec.records, Record(NOTIFICATION_AGREED.name,
                                           NOTIFICATION_AGREED.name)),
            help="Record the day the notification was made: a serious incident to the Child "
            "Safeguarding Practice Review Panel and Ofsted (the rapid review is due 15 "
            "working days from it); the death of a looked-after child or a care leaver to "
            "the Secretary of State and Ofsted.")
    return spec


def _triggers() -> tuple[TriggerSpec, ...]:
    found: list[TriggerSpec] = []
    for spec in v1.TRIGGERS:
        found.append(_changed(spec))
        if spec.name == "record_notification":
            found += [_with_leads(NEW["record_other_area_told"]), NEW["link_incident"]]
        if spec.name == "send_rapid_review":
            found.insert(len(found) - 1, _with_leads(NEW["record_rapid_review"]))
        if spec.name == "record_panel_response":
            found += [_with_leads(NEW["reopen_for_local_review"]),
                      _with_leads(NEW["record_national_review_support"])]
        if spec.name == "record_milestone":
            found.append(_with_leads(NEW["request_from_reviewer"]))
        if spec.name == "send_prepublication_notice":
            found.insert(len(found) - 1, _with_leads(NEW["decide_what_to_publish"]))
        if spec.name == "publish":
            found.append(NEW["record_repository_deposit"])
    return tuple(found)


TRIGGERS = _triggers()

# Two notifications of their own: the serious incident's to the Panel and Ofsted, and the
# death of a looked-after child or care leaver (without known or suspected abuse or
# neglect) to the Secretary of State and Ofsted, which opens no rapid review.
NOTIFICATION = replace(v1.NOTIFICATION, label="Serious incident notification due",
                       when="incident_notification_due")
DEATH_NOTIFICATION = replace(
    v1.NOTIFICATION, ladder="death_notification",
    label="Notification of the death to the Secretary of State and Ofsted due",
    when="death_notification_due")
RAPID_REVIEW = TimerSpec(
    "rapid_review", "Rapid review to the Panel due", S.REFERRAL, (ENTER, "record_notification"),
    (Level("reminder", "notified", ("business_manager", "subgroup_chair")),
     Level("due", "notified", (P, "business_manager"), recurring=True)),
    also_in=(*PRE_DECISION[1:], S.REVIEW, S.CLOSED), disarm_on=("send_rapid_review",),
    when="rapid_review_outstanding", invite="due",
)
# Armed again by the Panel's response, which may stop the local clock.
_PANEL = "record_panel_response"
REVIEW_DUE = TimerSpec(
    "review_due", "Local review due (6 months from the decision to review)", S.REVIEW,
    (ENTER, _PANEL),
    (Level("reminder", "decided", ("business_manager", "lead_reviewer", P)),
     Level("due", "decided", (P, "business_manager", "scrutineer", *TOLD_OF_DECISIONS)),
     Level("overdue", "decided", (P, "business_manager", *TOLD_OF_DECISIONS),
           recurring=True)),
    disarm_on=(_PANEL,), when="local_clock_runs", invite="due",
)
PROGRESS_CHECK = TimerSpec(
    "progress_check", "The review's progress checked", S.REVIEW, (ENTER, _PANEL),
    (Level("check", "commissioned", ("business_manager", P, "lead_reviewer"),
           recurring=True),),
    disarm_on=(_PANEL,), when="local_clock_runs",
)
PUBLICATION_DUE = replace(v1.PUBLICATION_DUE, state=S.PUBLICATION_HOLD, also_in=())
OTHER_AREA = TimerSpec(
    "other_area", "The other area's safeguarding partners to be told", S.REFERRAL, (ENTER,),
    (Level("reminder", "aware", ("business_manager",)),
     Level("due", "aware", ("business_manager", P), recurring=True)),
    also_in=PRE_DECISION[1:], disarm_on=("record_other_area_told",),
    when="other_area_untold", invite="due",
)


# Kept publicly available for at least a year (Working Together 2023, chapter 5): a reminder
# before the day it may come down, so that nobody takes it down early.
KEPT_PUBLIC = TimerSpec(
    "kept_public", "Publicly available for a year", S.PUBLISHED, (ENTER,),
    (Level("reminder", "public_until", ("business_manager", P)),),
    also_in=(S.ACTIONS_SIGNED_OFF,),
)
REPOSITORY = TimerSpec(
    "repository", "Deposit with the NSPCC national case review repository", S.PUBLISHED,
    (ENTER,), (Level("reminder", "entered", ("business_manager",)),),
    disarm_on=("record_repository_deposit",), when="repository_reminder",
)


def _timers() -> tuple[TimerSpec, ...]:
    found: list[TimerSpec] = []
    for spec in v1.TIMERS:
        if spec.ladder == "notification":
            found += [NOTIFICATION, DEATH_NOTIFICATION, OTHER_AREA]
        elif spec.ladder == "rapid_review":
            found.append(RAPID_REVIEW)
        elif spec.ladder == "publication_due":
            found += [REVIEW_DUE, PROGRESS_CHECK, PUBLICATION_DUE]
        elif spec.ladder == "publication":
            found += [spec, KEPT_PUBLIC, REPOSITORY]
        else:
            found.append(spec)
    return tuple(found)


TIMERS = _timers()

DEFAULT_OFFSETS = MappingProxyType({
    **v1.DEFAULT_OFFSETS,
    # Regulation 40 says "as soon as reasonably practicable": the board's default is the
    # serious incident's 5 working days.
    "death_notification.reminder": "3wd",
    "death_notification.due": "5wd",
    "death_notification.due.every": "5wd",
    "other_area.reminder": "3wd",
    "other_area.due": "5wd",
    "other_area.due.every": "5wd",
    "rapid_review.due.every": "5wd",
    "review_due.reminder": "5m",
    "review_due.due": "6m",
    "review_due.overdue": "7m",
    "review_due.overdue.every": "1m",
    "progress_check.check": "1m",
    "progress_check.check.every": "1m",
    "kept_public.reminder": "-10wd",
    "repository.reminder": "10wd",
})

DEFINITION = replace(
    v1.DEFINITION,
    version="2",
    source="Children Act 2004, ss. 16C-16F (Children and Social Work Act 2017); Child "
    "Safeguarding Practice Review and Relevant Agency (England) Regulations 2018; Working "
    "Together to Safeguard Children 2023 (as revised in December 2023 and 2025), chapter 5; "
    "Child Safeguarding Practice Review Panel, guidance for safeguarding partners (June "
    "2025); Care Planning, Placement and Case Review (England) Regulations 2010, reg. 40",
    create=REFER,
    triggers=TRIGGERS,
    timers=TIMERS,
    default_offsets=DEFAULT_OFFSETS,
    guards=rules.GUARDS,
    input_guards=rules.INPUT_GUARDS,
    recipients=MappingProxyType({
        **v1.DEFINITION.recipients,
        LEAD.value: "every lead safeguarding partner",
        R.PARTNERSHIP_CHAIR.value: "the partnership chair",
    }),
    words=MappingProxyType({
        **v1.DEFINITION.words,
        # The partners who decide are the delegated safeguarding partners (Working
        # Together 2023, chapter 2), or the lead partners themselves.
        "role:safeguarding_partner": "delegated safeguarding partner",
    }),
    conditions=rules.CONDITIONS,
    criteria=assess_cspr_v2,
    facts=(*v1.DEFINITION.facts, CARE_LEAVER, OUTSIDE_ENGLAND, LIVES_IN_AREA,
           OTHER_AREA_TOLD_ON, WITHDRAWAL_TOLD_ON, NATIONAL_REVIEW_SUPPORT_ON,
           *RAPID_REVIEW_RECORD, PUBLISHES, PUBLIC_UNTIL, REPOSITORY_DEPOSITED_ON, INCIDENT,
           NOTIFICATION_AGREED),
)


# Moving version 1's running cases here (`scr cases migrate --from cspr:1 --to cspr:2`): every
# state keeps its name. A case in the rapid review's states that version 2 would not have
# let in (no notification recorded, or no serious child safeguarding case) stays where it
# is, with the reason: the business manager records the notification under version 1 first,
# or finishes the case under it.
RAPID_REVIEW_STATES = frozenset({S.INFORMATION_REQUEST, S.SUB_GROUP, S.CHAIR_DECISION})


def _refuses(case: CaseSnapshot) -> str | None:
    if case.state not in RAPID_REVIEW_STATES:
        return None
    refusal = rules.rapid_review_refusal(case)
    if refusal is None:
        return None
    return (f"version 2 would not have let it into the rapid review: {refusal}; record the "
            "notification under version 1 first, or finish the case under it")


MIGRATION = Migration("cspr", "1", "2", refuses=_refuses)
