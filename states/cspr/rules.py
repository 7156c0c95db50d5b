"""The guards and timer conditions CSPR version 2 adds to the shared libraries
(states.guards, states.planning), kept apart from them: a definition holds its whole library
of guards and conditions, and every shipped version's fingerprint covers it, so a guard
added to the shared library would change the versions already running. Version 2 holds
the shared ones and these (states/cspr/v2.py); docs/regimes.md gives the source of each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from scr.states import guards as shared_guards
from scr.states.case import CaseSnapshot, GuardContext
from scr.states.criteria import looked_after_death, serious_incident
from scr.states.enums import PARTNERS, Harm, Role, State
from scr.states.facts import (
    CARE_LEAVER,
    LIVES_IN_AREA,
    NOTIFIED_ON,
    OTHER_AREA_TOLD_ON,
    PANEL_RESPONSE,
    PARTNER_VIEWS,
    PUBLISHES,
    RAPID_REVIEW_SENT_ON,
    REPOSITORY_DEPOSITED_ON,
    WITHDRAWAL_TOLD_ON,
)
from scr.states.planning import CONDITIONS as SHARED_CONDITIONS

Guard = Callable[[CaseSnapshot, GuardContext], str | None]
_GUARDS: dict[str, Guard] = {}
_INPUT: set[str] = set()


def _guard(*, reads_input: bool = False) -> Callable[[Guard], Guard]:
    def register(fn: Guard) -> Guard:
        _GUARDS[fn.__name__] = fn
        if reads_input:
            _INPUT.add(fn.__name__)
        return fn

    return register


def care_leaver_death(case: CaseSnapshot) -> bool:
    """The death of a care leaver (up to and including the age of 24), which the local
    authority notifies to the Secretary of State and Ofsted (Working Together 2023, as
    revised in December 2023)."""
    return bool(CARE_LEAVER.of(case)) and case.referred.harm == Harm.DEATH


def _withdrawn(case: CaseSnapshot) -> bool:
    """Closed before any decision: the referral was withdrawn."""
    return case.state == State.CLOSED and case.decided_at is None


# ------------------------------------------------------------------------------- guards
@_guard()
def rapid_review_may_begin(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    """A rapid review, and everything after it, only for a serious child safeguarding case
    already notified: "A rapid review cannot be undertaken without the prior submission of
    a Serious Incident Notification" (the Panel's guidance for safeguarding partners)."""
    return rapid_review_refusal(case)


def rapid_review_refusal(case: CaseSnapshot) -> str | None:
    """Why `case` may have no rapid review (yet), or None (rapid_review_may_begin)."""
    referral = case.referred
    if not serious_incident(referral):
        if looked_after_death(referral) or care_leaver_death(case):
            who = "looked-after child" if looked_after_death(referral) else "care leaver"
            return (f"the death of a {who} where abuse or neglect is not known or suspected "
                    "is notified to the Secretary of State and Ofsted, but it is not a "
                    "serious child safeguarding case: no rapid review and no local review "
                    "(Children Act 2004, s. 16C)")
        return ("not a serious child safeguarding case (abuse or neglect known or suspected, "
                "and the child died or was seriously harmed): no rapid review and no local "
                "review (Children Act 2004, ss. 16C and 16F)")
    if NOTIFIED_ON.of(case) is None:
        return ("a rapid review cannot be undertaken without the prior serious incident "
                "notification: record it first (record_notification)")
    return None


@_guard(reads_input=True)
def panel_told_if_notified(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    """Once a serious incident notification is submitted a rapid review is required, unless
    the case is found not to meet the criteria for one; the Panel is told (its guidance)."""
    notified = NOTIFIED_ON.of(case)
    if notified is None or not serious_incident(case.referred):
        return None
    if ctx.params.get("panel_told_on") is None:
        return (f"the serious incident notification was submitted ({notified}): a rapid "
                "review is required unless the case does not meet the criteria for one; "
                "give the day the Panel was told so (panel_told_on=YYYY-MM-DD)")
    return None


@_guard(reads_input=True)
def rapid_review_part_given(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if not any(v for v in ctx.params.values()):
        return "at least one part of the rapid review must be given"
    return None


@_guard()
def panel_asked_for_local_review(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    """The Panel disagreed with the partners' decision not to hold a local review."""
    if case.decided_at is None or case.kind is not None:
        return "the safeguarding partners have not decided against a local review"
    if PANEL_RESPONSE.of(case) != "local_review":
        return ("the Panel's response recorded is not that a local review should be held "
                "(record_panel_response response=local_review)")
    return None


@_guard()
def panel_took_national_review(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if PANEL_RESPONSE.of(case) != "national_review":
        return ("the Panel's response recorded is not that it takes a national review "
                "(record_panel_response response=national_review)")
    return None


@_guard()
def other_area_to_tell(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    if not LIVES_IN_AREA.of(case):
        return "the referral names no other area the child lives in (lives_in_area)"
    told = OTHER_AREA_TOLD_ON.of(case)
    if told is not None:
        return f"the other area's safeguarding partners were told already ({told})"
    return None


# ------------------------------------------------------------- the partners deciding
EDUCATION = "education"


def partners(ctx: GuardContext) -> tuple[str, ...]:
    """The safeguarding partners who decide together: the three, and education where the
    board says it is one (`[process] education_partner`)."""
    return (*PARTNERS, EDUCATION) if getattr(ctx.config, "education_partner", False) \
        else PARTNERS


def _partners_agree(decision: str, case: CaseSnapshot, ctx: GuardContext) -> str | None:
    """Every partner holds `decision`: each recorded it (record_partner_view) since the
    case reached the decision, the partner firing it counting as agreeing, whether a
    delegated safeguarding partner or the lead safeguarding partner they act for."""
    deciding = partners(ctx)
    agreed = {partner for partner, view in PARTNER_VIEWS.of(case).items()
              if view["decision"] == decision and view["at"] >= case.state_entered_at}
    if ctx.actor.roles & {Role.SAFEGUARDING_PARTNER, Role.LEAD_SAFEGUARDING_PARTNER} \
            and ctx.actor.agency in deciding:
        agreed.add(ctx.actor.agency)
    missing = [p for p in deciding if p not in agreed]
    if not missing:
        return None
    return (f"the safeguarding partners decide together: no view of {decision} is recorded "
            f"from {', '.join(missing)} (record_partner_view)")


@_guard()
def partners_agree_on_local_review(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    return _partners_agree("local_review", case, ctx)


@_guard()
def partners_agree_on_no_review(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    return _partners_agree("no_review", case, ctx)


@_guard(reads_input=True)
def partner_takes_part(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    partner = ctx.params.get("partner")
    if partner is not None and partner not in partners(ctx):
        return (f"{partner} is not one of this partnership's safeguarding partners (the "
                "board names education one with [process] education_partner)")
    return None


# ------------------------------------------------------------------------ publication
IMPROVEMENT_INFORMATION = "improvement_information"  # an output: what is published instead


@_guard()
def outputs_for_what_is_published(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    """The report, or where the partners publish information about the improvements to be
    made instead (decide_what_to_publish), that information."""
    needed = (IMPROVEMENT_INFORMATION,) if PUBLISHES.of(case) == "improvements" \
        else shared_guards.required_outputs(case.kind)
    missing = [o for o in needed if o not in case.outputs]
    if missing:
        return f"outputs not yet recorded: {', '.join(missing)}"
    return None


@_guard()
def not_yet_deposited(case: CaseSnapshot, ctx: GuardContext) -> str | None:
    deposited = REPOSITORY_DEPOSITED_ON.of(case)
    if deposited is not None:
        return f"the review was deposited with the NSPCC repository already ({deposited})"
    return None


GUARDS = MappingProxyType({**shared_guards.GUARDS, **_GUARDS})
INPUT_GUARDS = frozenset(shared_guards.INPUT_GUARDS | _INPUT)


# --------------------------------------------------------------------------- conditions
def _incident_notification_due(case: CaseSnapshot) -> bool:
    """A serious child safeguarding incident not yet notified to the Panel and Ofsted
    (Children Act 2004, s. 16C)."""
    return NOTIFIED_ON.of(case) is None and case.referred.aware_on is not None \
        and serious_incident(case.referred)


def _death_notification_due(case: CaseSnapshot) -> bool:
    """The death of a looked-after child (Care Planning, Placement and Case Review (England)
    Regulations 2010, reg. 40) or of a care leaver, without known or suspected abuse or
    neglect, not yet notified to the Secretary of State and Ofsted: a notification of its
    own, which opens no rapid review."""
    referral = case.referred
    return NOTIFIED_ON.of(case) is None and referral.aware_on is not None \
        and not serious_incident(referral) \
        and (looked_after_death(referral) or care_leaver_death(case))


def _rapid_review_outstanding(case: CaseSnapshot) -> bool:
    """A notified serious incident whose rapid review has not gone to the Panel, and was not
    withdrawn: its clock runs on past the partners' decision until it is sent."""
    return (serious_incident(case.referred) and NOTIFIED_ON.of(case) is not None
            and RAPID_REVIEW_SENT_ON.of(case) is None and WITHDRAWAL_TOLD_ON.of(case) is None
            and not _withdrawn(case))


def _local_clock_runs(case: CaseSnapshot) -> bool:
    """The local review keeps its own clock unless the Panel has taken a national review,
    which the local case supports instead."""
    return PANEL_RESPONSE.of(case) != "national_review"


def _other_area_untold(case: CaseSnapshot) -> bool:
    return bool(LIVES_IN_AREA.of(case)) and OTHER_AREA_TOLD_ON.of(case) is None


def _repository_reminder(case: CaseSnapshot, config: object) -> bool:
    """The board deposits its reviews with the NSPCC repository, and this one is not yet."""
    return bool(getattr(config, "nspcc_repository", False)) \
        and REPOSITORY_DEPOSITED_ON.of(case) is None


CONDITIONS: Mapping[str, Callable[..., bool]] = MappingProxyType({
    **SHARED_CONDITIONS,
    "incident_notification_due": _incident_notification_due,
    "death_notification_due": _death_notification_due,
    "rapid_review_outstanding": _rapid_review_outstanding,
    "local_clock_runs": _local_clock_runs,
    "other_area_untold": _other_area_untold,
    "repository_reminder": _repository_reminder,
})
