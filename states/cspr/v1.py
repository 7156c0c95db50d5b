"""The Child Safeguarding Practice Review process, version 1 (`cspr`, "1"): the local
review of a serious child safeguarding case under the Children Act 2004 (ss. 16C-16F, as
amended by the Children and Social Work Act 2017), the Child Safeguarding Practice Review
and Relevant Agency (England) Regulations 2018, and Working Together to Safeguard Children
2023 (chapter 5), with the Child Safeguarding Practice Review Panel's guidance for
safeguarding partners. docs/regimes.md gives the source of each rule.

The states are the SCR process's, named in CSPR words. What differs:

- the three safeguarding partners (local authority, integrated care board, police) decide
  together in place of an independent chair: each records a view (record_partner_view),
  and a decision needs all three (or, where the board names a lead partner, that partner
  fires it with the others' agreement recorded);
- the serious incident notification to the Panel and Ofsted within 5 working days of the
  local authority becoming aware (s. 16C); the rapid review (agency information, the rapid
  review meeting, the partners' decision) due 15 working days after the notification; the
  rapid review sent to the Panel, and the Panel's response recorded, with a reminder when
  none has come 15 working days after;
- there is no "must": the criteria for a local review are a judgement (states.criteria.
  assess_cspr), and a decision either way needs a reason;
- the final report goes to the Panel and the Secretary of State at least 7 working days
  before publication; publication is due within 6 months of the decision to review
  (reminder at 5 months, escalation after), deferred while criminal proceedings or an
  inquest are pending;
- action plans and sign-off as for SCRs;
- clocks counted in days or months fall due on a working day.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from scr.states import guards, recipients
from scr.states.criteria import assess_cspr
from scr.states.enums import PARTNERS, Kind, Methodology, Role, State
from scr.states.facts import (
    NOTIFIED_ON,
    PANEL_RESPONSE,
    PANEL_RESPONSE_ON,
    PARTNER_VIEWS,
    RAPID_REVIEW_SENT_ON,
    Record,
)
from scr.states.params import Param, PType
from scr.states.planning import CONDITIONS
from scr.states.process import (
    ENTER,
    NO_REVIEW,
    Level,
    ProcessDefinition,
    RoleRule,
    TimerSpec,
    TriggerSpec,
)
from scr.states.scr import v1 as scr_v1
from scr.states.scr import v2 as scr_v2

S = State
R = Role
BM = RoleRule(R.BUSINESS_MANAGER)
PARTNER = RoleRule(R.SAFEGUARDING_PARTNER)
P = "safeguarding_partner"  # the recipient selector: every safeguarding partner
PRE_DECISION = (S.REFERRAL, S.INFORMATION_REQUEST, S.SUB_GROUP, S.CHAIR_DECISION)
# What an agency thinks fit, the rapid review recommends, or the Panel responds.
REVIEW_VIEWS = ("local_review", "national_review", "no_review")
DECISIONS = ("local_review", "no_review")

STATE_LABELS = MappingProxyType({
    S.REFERRAL.value: "Serious incident notification",
    S.INFORMATION_REQUEST.value: "Rapid review: information from agencies",
    S.SUB_GROUP.value: "Rapid review meeting",
    S.CHAIR_DECISION.value: "Safeguarding partners' decision",
    S.REVIEW.value: "Local child safeguarding practice review",
    S.PUBLICATION_HOLD.value: "Publication hold",
    S.PUBLISHED.value: "Published; action plans monitored",
    S.ACTIONS_SIGNED_OFF.value: "Actions signed off",
    S.CLOSED.value: "Closed",
})


def _swap(selectors: tuple[str, ...]) -> tuple[str, ...]:
    """The SCR recipients in CSPR terms: the partners in place of the chair, and the
    independent scrutineer told of what the partners decide."""
    return tuple(dict.fromkeys(P if s == "chair" else s for s in selectors))


def _roles(rules: tuple[RoleRule, ...]) -> tuple[RoleRule, ...]:
    return tuple(dict.fromkeys(PARTNER if r.role == R.CHAIR else r for r in rules))


REFER = replace(scr_v2.REFER, notify=(P,), label="Serious incident referred")

METHODOLOGY = Param("methodology", PType.CHOICE, choices=tuple(str(m) for m in Methodology))
LEAD_REVIEWER = Param("lead_reviewer", PType.TEXT, max_length=100)
DATE_SENT = Param("date", PType.DATE, not_future=True, help="the day it was sent")

NEW = {
    "record_notification": replace(
        scr_v2.RECORD_NOTIFICATION, label="Serious incident notified to the Panel and Ofsted",
        notify=(P,),
        help="Record that the Child Safeguarding Practice Review Panel and Ofsted (and, for "
        "a looked-after child's death, the Secretary of State) were notified; the rapid "
        "review is due 15 working days from it."),
    "record_partner_view": TriggerSpec(
        "record_partner_view", "A safeguarding partner's view recorded", (S.CHAIR_DECISION,),
        None, (RoleRule(R.SAFEGUARDING_PARTNER, "partner"), BM),
        params=(Param("partner", PType.CHOICE, choices=PARTNERS),
                Param("decision", PType.CHOICE, choices=DECISIONS)),
        notify=(P,), effect=None,
        records=(Record(PARTNER_VIEWS.name, "decision", key="partner"),),
        help="Record one safeguarding partner's view of the decision (local_review or "
        "no_review); a decision needs all three."),
    "commission_practice_review": TriggerSpec(
        "commission_practice_review", "Local child safeguarding practice review commissioned",
        (S.CHAIR_DECISION,), S.REVIEW, (PARTNER,), params=(METHODOLOGY, LEAD_REVIEWER),
        guards=("methodology_and_reviewer_given", "partners_agree_local_review",
                "lead_partner_decides", "reason_given"),
        effect="commission", criteria=True, decision=Kind.CSPR,
        notify=(P, "scrutineer", "subgroup_chair", "lead_reviewer", "agency_leads:asked"),
        help="The safeguarding partners commission a local review, with their reasons; all "
        "three must agree."),
    "decide_no_review": TriggerSpec(
        "decide_no_review", "Decision: no local review", (S.CHAIR_DECISION,), S.CLOSED,
        (PARTNER,), guards=("partners_agree_no_review", "lead_partner_decides",
                            "reason_given"),
        criteria=True, decision=NO_REVIEW,
        notify=(P, "scrutineer", "subgroup_chair", "agency_leads:asked"),
        help="The safeguarding partners decide, with their reasons, that no local review is "
        "held; all three must agree. The rapid review goes to the Panel with the decision."),
    "send_rapid_review": TriggerSpec(
        "send_rapid_review", "Rapid review sent to the Panel", (S.REVIEW, S.CLOSED), None,
        (BM, PARTNER), params=(DATE_SENT,), guards=("rapid_review_not_sent",),
        notify=(P, "scrutineer"), effect=None,
        records=(Record(RAPID_REVIEW_SENT_ON.name, "date"),),
        help="Record that the rapid review, with the partners' decision, was sent to the "
        "Child Safeguarding Practice Review Panel."),
    "record_panel_response": TriggerSpec(
        "record_panel_response", "The Panel's response recorded", (S.REVIEW, S.CLOSED), None,
        (BM,), params=(Param("response", PType.CHOICE, choices=REVIEW_VIEWS),
                       Param("date", PType.DATE, not_future=True)),
        guards=("rapid_review_sent",), notify=(P, "scrutineer", "lead_reviewer"),
        effect=None, records=(Record(PANEL_RESPONSE.name, "response"),
                              Record(PANEL_RESPONSE_ON.name, "date")),
        help="Record the Panel's response to the rapid review: local_review, national_review "
        "(the Panel takes a national review) or no_review."),
}

RELABEL = {
    "request_information": "Rapid review begun: agencies asked for information",
    "record_return": "Agency information for the rapid review received",
    "submit_to_sub_group": "Case put to the rapid review meeting",
    "record_meeting": "Rapid review meeting recorded",
    "request_more_information": "The rapid review asked agencies for more information",
    "recommend": "Rapid review recommendation to the safeguarding partners",
    "refer_back": "Referred back to the rapid review",
    "complete_review": "Practice review completed; report on publication hold",
    "send_prepublication_notice": "Final report sent to the Panel and the Secretary of State",
    "sign_off_actions": "Action plan signed off",
}
VIEW = Param("view", PType.CHOICE, choices=REVIEW_VIEWS)
RECOMMENDATION = Param("recommendation", PType.CHOICE, choices=REVIEW_VIEWS)


def _changed(spec: TriggerSpec) -> TriggerSpec:
    changes: dict[str, object] = {"notify": _swap(spec.notify), "roles": _roles(spec.roles)}
    if spec.name in RELABEL:
        changes["label"] = RELABEL[spec.name]
    if spec.name == "record_return":
        changes["params"] = tuple(VIEW if p.name == "view" else p for p in spec.params)
    if spec.name == "recommend":
        changes["params"] = (RECOMMENDATION,)
        changes["help"] = "Recommend to the safeguarding partners: local_review, " \
            "national_review (for the Panel to consider) or no_review."
    if spec.name == "refer_back":
        changes["help"] = "Send the case back to the rapid review, with a reason."
    if spec.name == "send_prepublication_notice":
        changes["help"] = ("Record that the final report was sent to the Panel and the "
                           "Secretary of State; publication may follow 7 working days later.")
    if spec.name == "publish":
        changes["help"] = "Publish; deferred while criminal proceedings or an inquest are " \
            "pending."
    return replace(spec, **changes)  # type: ignore[arg-type]


# The SCR version 2 triggers this process has no use for.
DROPPED = {"commission_scr", "commission_case_review", "decide_not_to_publish",
           "record_panel_notice", "decide_no_review", "record_notification"}


def _triggers() -> tuple[TriggerSpec, ...]:
    found: list[TriggerSpec] = []
    for spec in scr_v2.TRIGGERS:
        if spec.name == "refer_back":
            found += [NEW["record_partner_view"], NEW["commission_practice_review"],
                      NEW["decide_no_review"]]
        if spec.name not in DROPPED:
            found.append(_changed(spec))
        if spec.name == "withdraw":
            found.append(NEW["record_notification"])
        if spec.name == "refer_back":
            found += [NEW["send_rapid_review"], NEW["record_panel_response"]]
    return tuple(found)


TRIGGERS = _triggers()


def _ladder(spec: TimerSpec) -> TimerSpec:
    levels = tuple(replace(lv, notify=_swap(lv.notify)) for lv in spec.levels)
    refused = replace(spec.refused, notify=_swap(spec.refused.notify)) if spec.refused else None
    return replace(spec, levels=levels, refused=refused)


NOTIFICATION = replace(
    _ladder(scr_v2.NOTIFICATION), label="Notification to the Panel and Ofsted due")
RAPID_REVIEW = TimerSpec(
    "rapid_review", "Rapid review due", S.REFERRAL, (ENTER, "record_notification"),
    (Level("reminder", "notified", ("business_manager", "subgroup_chair")),
     Level("due", "notified", (P, "business_manager"))),
    also_in=PRE_DECISION[1:], when="notified", invite="due",
)
PANEL_RESPONSE_DUE = TimerSpec(
    "panel_response", "The Panel's response to the rapid review", S.REVIEW,
    ("send_rapid_review",),
    (Level("reminder", "rapid_review_sent", ("business_manager", P)),),
    also_in=(S.CLOSED,), disarm_on=("record_panel_response",),
)
PUBLICATION_DUE = TimerSpec(
    "publication_due", "Publication due (6 months from the decision to review)", S.REVIEW,
    (ENTER, "record_proceedings"),
    (Level("reminder", "decided", ("business_manager", "lead_reviewer", P)),
     Level("due", "decided", (P, "business_manager", "scrutineer")),
     Level("overdue", "decided", (P, "business_manager"), recurring=True)),
    also_in=(S.PUBLICATION_HOLD,), when="publication_not_deferred", invite="due",
)
# The SCR ladders this process replaces: the chair's decision (the rapid review's clock
# covers the partners' decision), the SCR panel notices (the rapid review goes to the
# Panel), and the SCR completion clock (CSPR counts to publication).
REPLACED = {"decision", "panel", "panel_case_review", "panel_not_published", "completion",
            "notification"}


def _timers() -> tuple[TimerSpec, ...]:
    found = [NOTIFICATION, RAPID_REVIEW]
    found += [_ladder(t) for t in scr_v2.TIMERS if t.ladder not in REPLACED]
    at = next(i for i, t in enumerate(found) if t.ladder == "proceedings_check")
    return (*found[:at], PANEL_RESPONSE_DUE, PUBLICATION_DUE, *found[at:])


TIMERS = _timers()

DEFAULT_OFFSETS = MappingProxyType({
    **{k: v for k, v in scr_v2.DEFAULT_OFFSETS.items()
       if k.split(".")[0] not in REPLACED or k.startswith("notification.")},
    # Agency information and the meeting fit inside the rapid review's 15 working days.
    "returns.due": "7wd",
    "returns_auto_submit.transition": "2wd",
    "rapid_review.reminder": "10wd",
    "rapid_review.due": "15wd",
    "panel_response.reminder": "15wd",
    "publication_due.reminder": "5m",
    "publication_due.due": "6m",
    "publication_due.overdue": "7m",
    "publication_due.overdue.every": "1m",
})

DEFINITION = ProcessDefinition(
    name="cspr",
    version="1",
    label="Child Safeguarding Practice Review",
    source="Children Act 2004, ss. 16C-16F (Children and Social Work Act 2017); Child "
    "Safeguarding Practice Review and Relevant Agency (England) Regulations 2018; Working "
    "Together to Safeguard Children 2023, chapter 5; Child Safeguarding Practice Review "
    "Panel, guidance for safeguarding partners",
    states=scr_v1.DEFINITION.states,
    state_labels=STATE_LABELS,
    initial=S.REFERRAL.value,
    finals=scr_v1.DEFINITION.finals,
    create=REFER,
    triggers=TRIGGERS,
    timers=TIMERS,
    default_offsets=DEFAULT_OFFSETS,
    guards=guards.GUARDS,
    input_guards=frozenset(guards.INPUT_GUARDS),
    recipients=recipients.RECIPIENTS,
    conditions=CONDITIONS,
    criteria=assess_cspr,
    words=MappingProxyType({
        "notice": "final report to the Panel and the Secretary of State",
        "meeting": "rapid review meeting",
        # The sub-group's people chair and sit in the rapid review meeting.
        "role:subgroup_chair": "chair of the rapid review meeting",
        "role:subgroup_member": "member of the rapid review meeting",
    }),
    due_on_working_days=True,
    templates="cspr",
    facts=(NOTIFIED_ON, PARTNER_VIEWS, RAPID_REVIEW_SENT_ON, PANEL_RESPONSE, PANEL_RESPONSE_ON),
)
