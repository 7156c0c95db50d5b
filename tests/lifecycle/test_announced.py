"""Which levels of a ladder are announced by its own notice: the definition says
(TimerSpec.announced), and the engine refuses any other, so handlers/ lists no ladder's
levels again."""

from __future__ import annotations

import pytest

from scr.lifecycle.core.engine import timer_announcement
from scr.lifecycle.core.process import Processes
from scr.states.errors import InvalidInput


@pytest.fixture(scope="module")
def scr1():
    return Processes().get("scr", "1")


def test_a_level_of_the_ladder_is_announced_with_the_ladder_s_template(scr1):
    found = timer_announcement(scr1, "triage", "escalation")
    assert (found.template, found.level) == ("timer.triage", "escalation")
    assert found.selectors == scr1.definition.timer("triage").level("escalation").notify


@pytest.mark.parametrize("level", ["chair", "Reminder", "transition"])
def test_a_level_the_ladder_does_not_announce_is_refused(scr1, level):
    """Not a level of the ladder (chair, Reminder), or the level of a timed transition,
    whose notice is the trigger's (returns_auto_submit fires submit_to_sub_group)."""
    ladder = "returns_auto_submit" if level == "transition" else "triage"
    assert scr1.definition.timer(ladder) is not None
    with pytest.raises(InvalidInput, match="unknown timer"):
        timer_announcement(scr1, ladder, level)


def test_a_timed_transition_announces_only_its_refusal():
    publication = Processes().get("scr", "2").definition.timer("publication")
    assert publication is not None and publication.fires is not None
    assert publication.refused is not None
    assert publication.announced == (publication.refused,)
