"""The SCR criteria assessment: a pure function of the referral's facts.

LSCB Regulations 2006 reg. 5 / Working Together 2013-2015: abuse or neglect known or
suspected, AND either the child died (suspected suicide included), or the child was
seriously harmed and there is cause for concern about how agencies worked together.
An SCR should always follow a death in custody. Working Together 2010 ch. 8 grounds
are reported as grounds to *consider* a review; they do not make the criteria met.
"""

from __future__ import annotations

from dataclasses import dataclass

from states.case import ReferralFacts
from states.enums import Abuse, Ground, Harm

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

    def as_dict(self) -> dict[str, object]:
        return {"met": self.met, "reasons": list(self.reasons)}


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
