"""The learning register, version 1 (`learning`, "1"): reviews published elsewhere (national
reviews by the Child Safeguarding Practice Review Panel, other partnerships' serious case
reviews and practice reviews, thematic briefings) that the case review sub-group considers
for what they mean here. docs/learning.md says where each rule comes from.

An LSCB's case review sub-group reviews "published reports from serious case reviews
nationally", considering whether their recommendations are relevant locally (Working
Together to Safeguard Children 2015, chapter 4: the learning and improvement framework
draws on reviews elsewhere; Working Together 2023, chapter 5: partners act on the Panel's
national reviews). Each review is a record of its own, run by the same engine as a case:
history, roles, timers and e-mail.

- `register_review` opens the record (the business manager or the sub-group chair), in
  `registered`; the sub-group is reminded if it has not considered it two months on, and
  it is due by the next quarterly meeting (three months; both configurable);
- the sub-group chair records the consideration, with a reason: relevant, with the
  recommendations adopted locally (`adopted`), or not relevant (`not_relevant`, final);
- the business manager corrects what was registered (`amend_review`, with a reason), and
  may withdraw a review registered in error (`withdrawn`, final),
  with a reason, before it is considered;
- a relevant review's local actions follow the action plan rules of a case's (owner, due
  date, evidence, sign-off, reminders), until the plan is signed off;
- audits and training that answer its learning are recorded as on any case (the
  impact-check triggers every definition has: states/process.py).
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from scr.states.enums import Role
from scr.states.params import Param, PType
from scr.states.process import ENTER, Level, RoleRule, TimerSpec, TriggerSpec
from scr.states.scr import v2 as scr_v2

R = Role
BM = RoleRule(R.BUSINESS_MANAGER)
SUBGROUP_CHAIR = RoleRule(R.SUBGROUP_CHAIR)

REGISTERED, ADOPTED, NOT_RELEVANT, SIGNED_OFF, WITHDRAWN = (
    "registered", "adopted", "not_relevant", "actions_signed_off", "withdrawn")
STATE_LABELS = MappingProxyType({
    REGISTERED: "Registered: awaiting the sub-group's consideration",
    ADOPTED: "Relevant: recommendations adopted; actions monitored",
    NOT_RELEVANT: "Considered not relevant here",
    SIGNED_OFF: "Actions signed off",
    WITHDRAWN: "Withdrawn from the register",
})
# Where a review from elsewhere comes from.
SOURCES = ("national_review", "partnership_review", "thematic_review")

REGISTER = TriggerSpec(
    "register_review", "Review from elsewhere registered", (), REGISTERED,
    (BM, SUBGROUP_CHAIR),
    params=(
        Param("title", PType.TEXT, max_length=300, free_text=True,
              help="the review's title as published"),
        Param("source", PType.CHOICE, choices=SOURCES,
              help="where it comes from: a national review by the Panel, another "
              "partnership's SCR or practice review, or a thematic review or briefing"),
        Param("publisher", PType.TEXT, max_length=200, free_text=True,
              help="who published it, e.g. the Child Safeguarding Practice Review Panel"),
        Param("published_on", PType.DATE, not_future=True, help="the day it was published"),
        Param("themes", PType.THEMES, help="the board's themes it bears on"),
        Param("link", PType.TEXT, required=False, default="", max_length=500,
              help="where it is published"),
    ),
    notify=("subgroup_chair", "subgroup_members"), effect=None,
    help="Register a review published elsewhere for the sub-group to consider (creates "
    "the record).",
)
CONSIDERED_ON = Param("date", PType.DATE, not_future=True,
                      help="the day the sub-group considered it")
CONSIDER_RELEVANT = TriggerSpec(
    "consider_relevant", "Considered relevant: recommendations adopted", (REGISTERED,),
    ADOPTED, (SUBGROUP_CHAIR,),
    params=(
        CONSIDERED_ON,
        # The sub-group's words stay in learning_items: never in history or e-mail.
        Param("adopted", PType.LONG_TEXT, max_length=5000, free_text=True, mailed=False,
              in_history=False, help="the recommendations adopted locally"),
    ),
    guards=("reason_given",), effect="consider",
    notify=("chair", "subgroup_chair", "subgroup_members"),
    help="The sub-group finds the review relevant here, with its reason and the "
    "recommendations it adopts; local actions may then be added.",
)
CONSIDER_NOT_RELEVANT = TriggerSpec(
    "consider_not_relevant", "Considered not relevant here", (REGISTERED,), NOT_RELEVANT,
    (SUBGROUP_CHAIR,), params=(CONSIDERED_ON,), guards=("reason_given",), effect="consider",
    notify=("subgroup_chair", "subgroup_members"),
    help="The sub-group finds the review not relevant here, with its reason.",
)
WITHDRAW = TriggerSpec(
    "withdraw_review", "Withdrawn from the learning register", (REGISTERED,), WITHDRAWN,
    (BM,), guards=("reason_given",), effect="close", notify=("subgroup_chair",),
    help="Take a review off the register before the sub-group considers it (registered "
    "twice, or not a review), with a reason; it is not counted as considered.",
)
AMEND = TriggerSpec(
    "amend_review", "Review details corrected", (REGISTERED, ADOPTED, NOT_RELEVANT, SIGNED_OFF),
    None, (BM,),
    params=tuple(replace(p, required=False, default=None) for p in REGISTER.params),
    guards=("review_amendment_given", "reason_given"), notify=("subgroup_chair",),
    help="Correct what was registered of a review (its title, source, publisher, date, "
    "themes or link), with a reason; the consideration stands.",
)
# The action plan as a case has it (SCR version 2's rules), in the adopted state.
ACTION_TRIGGERS = ("add_action", "complete_action", "sign_off_action", "sign_off_actions")


def _actions() -> tuple[TriggerSpec, ...]:
    found = []
    for spec in scr_v2.TRIGGERS:
        if spec.name not in ACTION_TRIGGERS:
            continue
        changes: dict[str, object] = {"sources": (ADOPTED,)}
        if spec.dest is not None:
            changes["dest"] = SIGNED_OFF
            changes["roles"] = (SUBGROUP_CHAIR,)
            changes["notify"] = ("chair", "subgroup_chair")
            changes["help"] = "Close the record once every local action is signed off."
        found.append(replace(spec, **changes))  # type: ignore[arg-type]
    return tuple(found)


TRIGGERS = (CONSIDER_RELEVANT, CONSIDER_NOT_RELEVANT, WITHDRAW, AMEND, *_actions())

CONSIDERATION = TimerSpec(
    "consideration", "Consideration by the sub-group due", REGISTERED, (ENTER,),
    (Level("reminder", "entered", ("business_manager", "subgroup_chair")),
     Level("due", "entered", ("business_manager", "subgroup_chair", "chair"))),
    invite="due",
)
ACTION = next(replace(t, state=ADOPTED) for t in scr_v2.TIMERS if t.ladder == "action")
TIMERS = (CONSIDERATION, ACTION)

DEFAULT_OFFSETS = MappingProxyType({
    # The sub-group meets quarterly: a review is due for consideration by the next meeting.
    "consideration.reminder": "2m",
    "consideration.due": "3m",
    "action.reminder": scr_v2.DEFAULT_OFFSETS["action.reminder"],
    "action.overdue": scr_v2.DEFAULT_OFFSETS["action.overdue"],
})

# The libraries of guards, recipients and conditions are the shared ones, as SCR version 2
# has them; everything else is the register's own.
DEFINITION = replace(
    scr_v2.DEFINITION,
    name="learning",
    version="1",
    label="Learning from reviews elsewhere",
    source="Working Together to Safeguard Children 2015, chapter 4 (the learning and "
    "improvement framework); Working Together to Safeguard Children 2023, chapter 5 "
    "(national reviews by the Child Safeguarding Practice Review Panel)",
    states=(REGISTERED, ADOPTED, NOT_RELEVANT, SIGNED_OFF, WITHDRAWN),
    state_labels=STATE_LABELS,
    initial=REGISTERED,
    finals=frozenset({NOT_RELEVANT, SIGNED_OFF, WITHDRAWN}),
    create=REGISTER,
    triggers=TRIGGERS,
    timers=TIMERS,
    default_offsets=DEFAULT_OFFSETS,
    criteria=None,
    words=MappingProxyType({}),
    due_on_working_days=True,
    templates="",
    opens="learning",
)
