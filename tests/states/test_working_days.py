"""Working days in England and Wales across Christmas, New Year, Easter and substitute days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from scr.states.working_days import Offset, WorkingDays, add_months

CAL = WorkingDays()


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Christmas 2026 is a Friday; Boxing Day a Saturday, its substitute Monday 28 Dec.
        (date(2026, 12, 22), 10, date(2027, 1, 8)),
        (date(2026, 12, 24), 1, date(2026, 12, 29)),
        # Christmas 2027 is a Saturday: substitutes Monday 27 and Tuesday 28 December.
        (date(2027, 12, 24), 1, date(2027, 12, 29)),
        # New Year's Day 2028 is a Saturday: substitute Monday 3 January.
        (date(2027, 12, 31), 1, date(2028, 1, 4)),
        # Easter 2027: Good Friday 26 March, Easter Monday 29 March.
        (date(2027, 3, 25), 1, date(2027, 3, 30)),
        (date(2027, 3, 22), 5, date(2027, 3, 31)),
        # A one-off: the late Queen's funeral, Monday 19 September 2022.
        (date(2022, 9, 16), 1, date(2022, 9, 20)),
        # Substitute for Christmas 2022 (a Sunday): Tuesday 27 December.
        (date(2022, 12, 23), 1, date(2022, 12, 28)),
        # Backwards: 2 working days before Tuesday 29 December 2026.
        (date(2026, 12, 29), -2, date(2026, 12, 23)),
        # From a Saturday, the first working day counts as one.
        (date(2026, 11, 28), 1, date(2026, 11, 30)),
        (date(2026, 11, 25), 0, date(2026, 11, 25)),
    ],
)
def test_add_working_days(start, n, expected):
    """Weekends and bank holidays (substitute and one-off days included) are skipped."""
    assert CAL.add_working_days(start, n) == expected


def test_scotland_differs_when_configured():
    """The region is configurable: 2 January is a bank holiday in Scotland, not England
    (in 2027 it is a Saturday, so Scotland's substitute is Monday 4 January)."""
    scotland = WorkingDays(subdiv="SCT")
    assert scotland.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 5)
    assert CAL.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert not scotland.is_working_day(date(2027, 1, 4))
    assert CAL.is_working_day(date(2027, 1, 4))


def test_shift_keeps_local_time_across_the_clock_change():
    """10:15 London on a summer day, 3 working days on after the clocks go back, is 10:15
    London (GMT): the UTC hour moves by one."""
    start = datetime(2026, 10, 22, 9, 15, tzinfo=UTC)  # 10:15 BST, a Thursday
    due = CAL.shift(start, Offset(3, "wd"))  # Tue 27 Oct, after the change on Sun 25 Oct
    assert due == datetime(2026, 10, 27, 10, 15, tzinfo=UTC)
    assert CAL.local(due).hour == 10


def test_months_clamp_to_month_end():
    """One month after 31 January is the last day of February."""
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_start_of_day_is_local():
    """A date anchors at 09:00 London: 09:00 UTC in winter, 08:00 UTC in summer."""
    assert CAL.start_of(date(2027, 1, 5)) == datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
    assert CAL.start_of(date(2027, 7, 5)) == datetime(2027, 7, 5, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["3", "wd", "3 weeks", "1.5wd", "", "99999wd"])
def test_bad_offsets_are_refused(text):
    """An offset must be a whole number and a unit: wd, d or m."""
    with pytest.raises(ValueError):
        Offset.parse(text)


def test_naive_moments_are_refused():
    """The calendar never guesses a time zone."""
    with pytest.raises(ValueError):
        CAL.shift(datetime(2026, 11, 23, 10, 0), Offset(1, "wd"))
