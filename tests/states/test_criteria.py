"""The SCR criteria assessment (LSCB Regulations 2006 reg. 5), case by case."""

from __future__ import annotations

from datetime import date

import pytest

from scr.states.case import ReferralFacts
from scr.states.criteria import assess


def facts(harm, abuse, concern=False, grounds=()):
    return ReferralFacts(date(2026, 11, 1), harm, abuse, concern, tuple(grounds))


@pytest.mark.parametrize(
    ("referral", "met", "reason"),
    [
        (facts("death", "suspected"), True, "the child has died"),
        (facts("death", "known"), True, "the child has died"),
        (facts("death", "not_suspected"), False, "criteria need it known or suspected"),
        (facts("serious_harm", "known", concern=True), True, "worked together"),
        (facts("serious_harm", "known", concern=False), False, "no cause for concern"),
        (facts("serious_harm", "not_suspected", concern=True), False, "known or suspected"),
        (facts("other", "suspected", concern=True, grounds=["life_threatening_injury"]), True,
         "seriously harmed"),
        (facts("other", "suspected", concern=True), False, "neither died nor"),
        (facts("death", "not_suspected", grounds=["death_in_custody"]), True,
         "should always follow"),
        (facts("other", "not_suspected", grounds=["serious_sexual_abuse"]), False,
         "particularly serious sexual abuse"),
        (facts("other", "suspected", grounds=["parent_homicide"]), False,
         "domestic homicide review"),
    ],
)
def test_assessment(referral, met, reason):
    """Met or not as the regulations say, with the reason that decides it."""
    verdict = assess(referral)
    assert verdict.met is met
    assert verdict.reasons[0] == ("SCR criteria met" if met else "SCR criteria not met")
    assert any(reason in r for r in verdict.reasons), verdict.reasons
