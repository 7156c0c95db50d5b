"""The Serious Case Review process, version 2 (`scr`, "2"): version 1 with the statutory
clocks it left out, as Working Together to Safeguard Children 2015 (chapter 4) sets them.
docs/regimes.md gives the source of each rule.

What changes from version 1 (cases begun under version 1 keep its rules and timers):

- the referral records the day the local authority became aware of the incident
  (`aware_on`) and whether the child was looked after;
- `record_notification`: the serious incident notification to Ofsted and the national
  panel, due within 5 working days of awareness (WT 2015 ch. 4 para. 18); a reminder and
  then escalations to the chair until it is recorded. The death of a looked-after child is
  notified whatever the criteria say (para. 18; the Care Planning, Placement and Case
  Review (England) Regulations 2010, reg. 40, for the Secretary of State and Ofsted);
- the chair's decision is due one month from the notification (or from awareness while
  none is recorded), not from the moment the referral was typed in (para. 19);
- a decision not to hold an SCR, by deciding no review or by commissioning a case review
  below the SCR threshold, arms the 14-day notice to the national panel (para. 21);
- `decide_not_to_publish`: the chair may decide, with reasons, not to publish; the panel
  is told (para. 39); the case goes on to `published` with no public outputs, where its
  action plan is monitored as any other (README.md, "Regimes");
- inquests are recorded beside criminal and care proceedings; pending criminal
  proceedings and a pending inquest hold publication back, care proceedings do not;
- clocks counted in days or months fall due on a working day.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from scr.states.criteria import assess_v2
from scr.states.enums import Proceedings, Role, State
from scr.states.facts import NOTIFIED_ON, Record
from scr.states.params import Param, PType
from scr.states.process import ENTER, Level, RoleRule, TimerSpec, TriggerSpec
from scr.states.scr import v1

S = State
R = Role
BM = RoleRule(R.BUSINESS_MANAGER)
PRE_DECISION = (S.REFERRAL, S.INFORMATION_REQUEST, S.SUB_GROUP, S.CHAIR_DECISION)

AWARE_ON = Param("aware_on", PType.DATE, not_future=True,
                 help="the day the local authority became aware of the incident")
LOOKED_AFTER = Param("looked_after", PType.BOOL,
                     help="the child was looked after by the local authority "
                     "(--looked-after or --no-looked-after)")


def _after(params: tuple[Param, ...], name: str, *extra: Param) -> tuple[Param, ...]:
    """`params` with `extra` inserted after the one called `name`."""
    at = [p.name for p in params].index(name) + 1
    return (*params[:at], *extra, *params[at:])


REFERRAL_PARAMS = _after(v1.REFERRAL_PARAMS, "incident_date", AWARE_ON, LOOKED_AFTER)
AMEND_PARAMS = _after(v1.AMEND_PARAMS, "incident_date",
                      replace(AWARE_ON, required=False),
                      replace(LOOKED_AFTER, required=False))
REFER = replace(v1.REFER, params=REFERRAL_PARAMS)
PROCEEDINGS = tuple(str(v) for v in Proceedings)

RECORD_NOTIFICATION = TriggerSpec(
    "record_notification", "Serious incident notified to Ofsted and the national panel",
    PRE_DECISION, None, (BM,),
    params=(Param("date", PType.DATE, not_future=True, help="the day it was notified"),),
    guards=("not_yet_notified",), notify=("chair",), effect=None,
    records=(Record(NOTIFIED_ON.name, "date"),),
    help="Record that Ofsted and the national panel (and, for a looked-after child's death, "
    "the Secretary of State) were told of the serious incident; the chair's decision is due "
    "a month from it.",
)
DECIDE_NOT_TO_PUBLISH = TriggerSpec(
    "decide_not_to_publish", "Decision: the report is not published", (S.PUBLICATION_HOLD,),
    S.PUBLISHED, (RoleRule(R.CHAIR),), guards=("reason_given",), effect="not_published",
    notify=("chair", "subgroup_chair", "lead_reviewer", "agency_leads:asked"),
    help="Decide, with reasons, not to publish the report; the national panel must have the "
    "decision and reasons within 14 days; the action plan is monitored as after publication.",
)


def _changed(spec: TriggerSpec) -> TriggerSpec:
    if spec.name == "record_proceedings":
        return replace(spec, params=(
            Param("criminal", PType.CHOICE, required=False, choices=PROCEEDINGS),
            Param("care", PType.CHOICE, required=False, choices=PROCEEDINGS),
            Param("inquest", PType.CHOICE, required=False, choices=PROCEEDINGS),
            Param("expected_conclusion", PType.DATE, required=False),
        ), help="Record the status of parallel criminal and care proceedings and of an "
           "inquest; pending criminal proceedings or a pending inquest hold publication.")
    if spec.name == "publish":
        return replace(spec, guards=("no_proceedings_holding_publication",
                                     "notice_period_elapsed", "outputs_recorded"),
                       help="Publish; refused while criminal proceedings or an inquest are "
                       "pending.")
    if spec.name == "record_panel_notice":
        return replace(spec, sources=(S.REVIEW, S.CLOSED, S.PUBLISHED),
                       help="Record that the national panel and Ofsted were told of a "
                       "decision (no SCR, or not to publish), with reasons; stops the "
                       "panel reminder.")
    if spec.name == "amend_referral":
        return replace(spec, params=AMEND_PARAMS)
    return spec


def _triggers() -> tuple[TriggerSpec, ...]:
    found: list[TriggerSpec] = []
    for spec in v1.TRIGGERS:
        found.append(_changed(spec))
        if spec.name == "withdraw":
            found.append(RECORD_NOTIFICATION)
        if spec.name == "send_prepublication_notice":
            found.append(DECIDE_NOT_TO_PUBLISH)
    return tuple(found)


TRIGGERS = _triggers()

NOTIFICATION = TimerSpec(
    "notification", "Serious incident notification due", S.REFERRAL,
    (ENTER, "amend_referral"),
    (Level("reminder", "aware", ("business_manager",)),
     Level("due", "aware", ("business_manager", "chair"), recurring=True)),
    also_in=PRE_DECISION[1:], disarm_on=("record_notification",),
    when="notification_outstanding", invite="due",
)


def _timers() -> tuple[TimerSpec, ...]:
    found: list[TimerSpec] = [NOTIFICATION]
    for spec in v1.TIMERS:
        if spec.ladder == "decision":
            spec = replace(spec, arm_on=(ENTER, "record_notification"), levels=(
                Level("reminder", "entered", ("chair",)),
                Level("due", "notified", ("chair", "business_manager"))))
        found.append(spec)
        if spec.ladder == "panel":
            found.append(TimerSpec(
                "panel_case_review", "National panel to be told there is no SCR", S.REVIEW,
                (ENTER,),
                (Level("reminder", "entered", ("business_manager",)),
                 Level("due", "entered", ("business_manager",))),
                disarm_on=("record_panel_notice",), enter_via=("commission_case_review",),
                invite="due"))
        if spec.ladder == "publication":
            found.append(TimerSpec(
                "panel_not_published", "National panel to be told the report is not published",
                S.PUBLISHED, (ENTER,),
                (Level("reminder", "entered", ("business_manager",)),
                 Level("due", "entered", ("business_manager",))),
                disarm_on=("record_panel_notice",), enter_via=("decide_not_to_publish",),
                invite="due"))
    return tuple(found)


TIMERS = _timers()

DEFAULT_OFFSETS = MappingProxyType({
    **v1.DEFAULT_OFFSETS,
    "notification.reminder": "3wd",
    "notification.due": "5wd",
    "notification.due.every": "5wd",
    "panel_case_review.reminder": "10d",
    "panel_case_review.due": "14d",
    "panel_not_published.reminder": "10d",
    "panel_not_published.due": "14d",
})

DEFINITION = replace(
    v1.DEFINITION,
    version="2",
    source="Local Safeguarding Children Boards Regulations 2006, reg. 5; Working Together "
    "to Safeguard Children 2015, chapter 4 (notification, decision, publication); Care "
    "Planning, Placement and Case Review (England) Regulations 2010, reg. 40",
    create=REFER,
    triggers=TRIGGERS,
    timers=TIMERS,
    default_offsets=DEFAULT_OFFSETS,
    criteria=assess_v2,
    due_on_working_days=True,
    templates="scr2",
    facts=(*v1.DEFINITION.facts, NOTIFIED_ON),
)
