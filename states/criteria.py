"""The SCR criteria assessment: a pure function of the referral's facts.

LSCB Regulations 2006 reg. 5 / Working Together 2013-2015: abuse or neglect known or
suspected, AND either the child died (suspected suicide included), or the child was
seriously harmed and there is cause for concern about how agencies worked together.
An SCR should always follow a death in custody. Working Together 2010 ch. 8 grounds
are reported as grounds to *consider* a review; they do not make the criteria met.
"""

from __future__ import annotations

from dataclasses import dataclass

from scr.states.case import ReferralFacts
from scr.states.enums import Abuse, Ground, Harm

_CONSIDER = {
    Ground.LIFE_THREATENING_INJURY: "a potentially life-threatening injury or serious and "
    "permanent impairment",
    Ground.SERIOUS_SEXUAL_ABUSE: "particularly serious sexual abuse",
    Ground.PARENT_HOMICIDE: "a parent was murdered and a domestic homicide review begun",
    Ground.KILLED_BY_PARENT_MENTAL_ILLNESS: "the child was killed by a parent with a mental "
    "illness",
}


@dataclass(frozen=True)
class Assessment:
    met: bool
    reasons: tuple[str, ...]
    # False where the criteria are a judgement, not a rule (CSPR): `met` then says only
    # that the considerations point towards a review, and a decision either way stands with
    # its reason.
    binding: bool = True
    label: str = "SCR criteria"

    @property
    def summary(self) -> str:
        if self.binding:
            return "met" if self.met else "not met"
        return "point towards a local review" if self.met else "do not point towards a review"

    def as_dict(self) -> dict[str, object]:
        return {"met": self.met, "reasons": list(self.reasons), "binding": self.binding,
                "label": self.label}


def assess(referral: ReferralFacts) -> Assessment:
    """Whether the SCR criteria are met, with every reason that led there."""
    reasons: list[str] = []
    grounds = set(referral.grounds)
    abuse = referral.abuse in (Abuse.KNOWN, Abuse.SUSPECTED)
    died = referral.harm == Harm.DEATH
    # Serious harm includes a potentially life-threatening injury.
    seriously_harmed = (
        referral.harm == Harm.SERIOUS_HARM or Ground.LIFE_THREATENING_INJURY in grounds
    )

    if Ground.DEATH_IN_CUSTODY in grounds:
        reasons.append("the child died in custody, in a secure setting or detained under the "
                       "Mental Health Act: an SCR should always follow")
        met = True
    else:
        reasons.append(f"abuse or neglect is {referral.abuse.replace('_', ' ')}"
                       + ("" if abuse else ": the criteria need it known or suspected"))
        if died:
            reasons.append("the child has died")
            met = abuse
        elif seriously_harmed:
            reasons.append("the child has been seriously harmed")
            if referral.agency_concern:
                reasons.append("there is cause for concern about how agencies worked together")
                met = abuse
            else:
                reasons.append("no cause for concern about how agencies worked together is "
                               "recorded")
                met = False
        else:
            reasons.append("the child has neither died nor been seriously harmed")
            met = False

    considered = [text for ground, text in _CONSIDER.items() if ground in grounds]
    if referral.agency_concern and not met:
        considered.append("concerns about inter-agency working")
    if considered and not met:
        reasons.append("grounds to consider a case review: " + "; ".join(considered))
    reasons.insert(0, "SCR criteria met" if met else "SCR criteria not met")
    return Assessment(met=met, reasons=tuple(reasons))


def notifiable(referral: ReferralFacts) -> bool:
    """A serious incident the local authority must notify to Ofsted and the national panel
    within 5 working days of becoming aware of it (Working Together 2015, ch. 4, para. 18;
    Children Act 2004, s. 16C): abuse or neglect known or suspected, and the child died or
    was seriously harmed; or the death of a looked-after child, whether or not abuse or
    neglect is known or suspected."""
    abuse = referral.abuse in (Abuse.KNOWN, Abuse.SUSPECTED)
    harmed = referral.harm in (Harm.DEATH, Harm.SERIOUS_HARM) \
        or Ground.LIFE_THREATENING_INJURY in referral.grounds
    return (abuse and harmed) or looked_after_death(referral)


def looked_after_death(referral: ReferralFacts) -> bool:
    return referral.looked_after and referral.harm == Harm.DEATH


def assess_v2(referral: ReferralFacts) -> Assessment:
    """The SCR criteria as `assess`, with what the notification needs: a looked-after
    child's death is notified to the Secretary of State and Ofsted whatever the criteria
    say (Care Planning, Placement and Case Review (England) Regulations 2010, reg. 40;
    Working Together 2015, ch. 4, para. 18)."""
    found = assess(referral)
    extra = []
    if looked_after_death(referral):
        extra.append("the child was looked after and has died: the Secretary of State and "
                     "Ofsted must be notified whatever the criteria say")
    elif notifiable(referral):
        extra.append("a notifiable incident: Ofsted and the national panel must be told within "
                     "5 working days of the authority becoming aware")
    return Assessment(found.met, (*found.reasons, *extra))


def assess_cspr(referral: ReferralFacts) -> Assessment:
    """The considerations for a local child safeguarding practice review, with reasons.

    There is no "must": the safeguarding partners judge whether the case raises issues of
    importance for their area (Children Act 2004, s. 16F), having regard to the criteria of
    Working Together 2023 (chapter 5): whether it highlights or may highlight improvements
    needed, recurrent themes, or concerns about two or more organisations working together,
    or is one the national panel thinks better reviewed locally. A referral's facts can
    speak to some of them; the partners weigh the rest at the rapid review.
    """
    reasons: list[str] = []
    serious = notifiable(referral)
    if looked_after_death(referral):
        reasons.append("the child was looked after and has died: the Secretary of State and "
                       "Ofsted must be notified whatever the other facts")
    abuse = referral.abuse in (Abuse.KNOWN, Abuse.SUSPECTED)
    if serious and abuse:
        harmed = "has died" if referral.harm == Harm.DEATH else "was seriously harmed"
        reasons.append(f"a serious incident: abuse or neglect is "
                       f"{referral.abuse.replace('_', ' ')} and the child {harmed}")
    elif serious:
        reasons.append("a serious incident: the death of a looked-after child")
    else:
        reasons.append("not a serious incident as the Act defines it (abuse or neglect known "
                       "or suspected, and death or serious harm)")
    concerns = []
    if referral.agency_concern:
        concerns.append("it may highlight concerns about two or more organisations working "
                        "together")
    grounds = [text for ground, text in _CONSIDER.items() if ground in referral.grounds]
    if Ground.DEATH_IN_CUSTODY in referral.grounds:
        grounds.append("a death in custody, in a secure setting or detained under the Mental "
                       "Health Act")
    if grounds:
        concerns.append("it may highlight improvements needed or recurrent themes ("
                        + "; ".join(grounds) + ")")
    reasons += concerns or ["nothing in the referral yet points to improvements, recurrent "
                            "themes or concerns about agencies working together; the rapid "
                            "review weighs them"]
    towards = serious and bool(concerns)
    reasons.insert(0, "CSPR considerations point towards a local review" if towards
                   else "CSPR considerations do not point towards a local review")
    reasons.append("a judgement for the safeguarding partners, not a rule: a decision either "
                   "way is recorded with its reason")
    return Assessment(towards, tuple(reasons), binding=False, label="CSPR considerations")


def serious_incident(referral: ReferralFacts) -> bool:
    """A serious child safeguarding incident (Children Act 2004, s. 16C(1)): abuse or neglect
    known or suspected, and the child died or was seriously harmed. Only such an incident
    has a rapid review and may have a local review (s. 16F)."""
    abuse = referral.abuse in (Abuse.KNOWN, Abuse.SUSPECTED)
    harmed = referral.harm in (Harm.DEATH, Harm.SERIOUS_HARM) \
        or Ground.LIFE_THREATENING_INJURY in referral.grounds
    return abuse and harmed


def assess_cspr_v2(referral: ReferralFacts) -> Assessment:
    """The considerations for a local child safeguarding practice review (CSPR version 2).

    As `assess_cspr`, but the death of a looked-after child where abuse or neglect is not
    known or suspected is what the law makes it: an event the local authority notifies to
    the Secretary of State and Ofsted (Care Planning, Placement and Case Review (England)
    Regulations 2010, reg. 40), not a serious child safeguarding case, so nothing points
    towards a rapid review or a local review (Children Act 2004, ss. 16C and 16F; the Child
    Safeguarding Practice Review Panel's guidance for safeguarding partners).
    """
    reasons: list[str] = []
    serious = serious_incident(referral)
    if serious:
        harmed = "has died" if referral.harm == Harm.DEATH else "was seriously harmed"
        reasons.append(f"a serious child safeguarding incident: abuse or neglect is "
                       f"{referral.abuse.replace('_', ' ')} and the child {harmed}; it is "
                       "notified to the Panel and Ofsted, and a rapid review follows")
    elif looked_after_death(referral):
        reasons.append("the death of a looked-after child where abuse or neglect is not known "
                       "or suspected: the Secretary of State and Ofsted are told, but it is "
                       "not a serious child safeguarding case (no rapid review, no local "
                       "review)")
    else:
        reasons.append("not a serious child safeguarding case as the Act defines it (abuse or "
                       "neglect known or suspected, and death or serious harm): no rapid "
                       "review, no local review")
    # The considerations as assess_cspr words them, written out again: assess_cspr is
    # frozen with version 1 (its source is part of that version's fingerprint).
    concerns = []
    if referral.agency_concern:
        concerns.append("it may highlight concerns about two or more organisations working "
                        "together")
    grounds = [text for ground, text in _CONSIDER.items() if ground in referral.grounds]
    if Ground.DEATH_IN_CUSTODY in referral.grounds:
        grounds.append("a death in custody, in a secure setting or detained under the Mental "
                       "Health Act")
    if grounds:
        concerns.append("it may highlight improvements needed or recurrent themes ("
                        + "; ".join(grounds) + ")")
    if serious:
        reasons += concerns or ["nothing in the referral yet points to improvements, "
                                "recurrent themes or concerns about agencies working "
                                "together; the rapid review weighs them"]
    towards = serious and bool(concerns)
    reasons.insert(0, "CSPR considerations point towards a local review" if towards
                   else "CSPR considerations do not point towards a local review")
    if serious:
        reasons.append("a judgement for the safeguarding partners, not a rule: a decision "
                       "either way is recorded with its reason")
    return Assessment(towards, tuple(reasons), binding=False, label="CSPR considerations")
