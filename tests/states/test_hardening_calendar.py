"""The calendar at its ends and the board's distances: a shift that would leave the
calendar is InvalidInput (exit 2), never an overflow; a distance that counts on from
something that has happened must count forward, while one from a dated anchor may fall
before it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scr.states.config import ProcessConfig
from scr.states.errors import InvalidInput
from scr.states.registry import REGISTRY
from scr.states.working_days import Offset, WorkingDays

CAL = WorkingDays()


@pytest.mark.parametrize(("moment", "offset"), [
    (datetime(9999, 12, 30, 12, tzinfo=UTC), "5wd"),
    (datetime(9999, 12, 31, 12, tzinfo=UTC), "1d"),
    (datetime(9999, 12, 1, 12, tzinfo=UTC), "2m"),
    (datetime(9999, 1, 1, 12, tzinfo=UTC), "9999m"),
    (datetime(1, 1, 2, 12, tzinfo=UTC), "-5wd"),
    (datetime(1, 1, 2, 12, tzinfo=UTC), "-2d"),
    (datetime(1, 2, 1, 12, tzinfo=UTC), "-2m"),
    (datetime(1, 1, 1, 0, 0, tzinfo=UTC), "0wd"),  # Europe/London's LMT is before year 1
])
def test_a_shift_past_either_end_of_the_calendar_is_bad_input(moment, offset):
    """InvalidInput naming the distance, not OverflowError or ValueError from deep inside."""
    with pytest.raises(InvalidInput, match="outside the calendar"):
        CAL.shift(moment, Offset.parse(offset), roll=True)


def test_shifts_near_the_ends_that_stay_inside_still_work():
    """Just inside the ends, shifts are computed as anywhere else."""
    assert CAL.shift(datetime(9999, 12, 1, 12, tzinfo=UTC), Offset.parse("3wd")).year == 9999
    assert CAL.shift(datetime(1, 3, 1, 12, tzinfo=UTC), Offset.parse("-1m")).month == 2


def test_a_naive_moment_is_still_a_programming_error():
    """The overflow guard does not swallow the naive-datetime check."""
    with pytest.raises(ValueError, match="naive"):
        CAL.shift(datetime(2026, 1, 1), Offset.parse("1wd"))


def test_every_shipped_default_distance_passes_the_rules():
    """The rules refuse nonsense only: each definition's own defaults are accepted."""
    for definition in REGISTRY:
        ProcessConfig().with_offsets(dict(definition.default_offsets), [definition])


@pytest.mark.parametrize("key", ["triage.reminder", "returns.due", "notice_period",
                                 "completion.due", "proceedings_check.check.every",
                                 "recommendation.chair", "panel.due"])
@pytest.mark.parametrize("value", ["0wd", "-1wd", "0d", "-14d", "0m", "-6m"])
def test_a_distance_from_something_that_happened_must_count_forward(key, value):
    """Zero or less would fall due at once (or, for a recurrence, never move on)."""
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        ProcessConfig().with_offsets({key: value})


@pytest.mark.parametrize("key", ["returns.reminder", "returns.overdue",
                                 "returns_auto_submit.transition", "action.reminder",
                                 "recommendation.escalation", "publication.transition"])
@pytest.mark.parametrize("value", ["-3wd", "0wd", "2wd"])
def test_a_distance_from_a_dated_anchor_may_fall_either_side(key, value):
    """Before, on or after a deadline, a meeting or a publication date: all choices."""
    assert ProcessConfig().with_offsets({key: value}).overrides[key] == Offset.parse(value)
