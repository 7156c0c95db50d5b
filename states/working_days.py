"""Working days and due moments (README.md, "Working-day rules").

Due moments are computed on local dates in the board's time zone (Europe/London by
default) against the bank holidays of the configured region (England and Wales by
default, from the `holidays` package), then returned in UTC for storage.

A shift by working days keeps the local time of day of its anchor: a request made at
10:15 on a Monday is due at 10:15 ten working days later. A date without a time (a
meeting, a scheduled publication, an action's due date) is anchored at the start of
the board's working day.
"""

from __future__ import annotations

import calendar as _cal
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from scr.states.errors import InvalidInput

_OFFSET = re.compile(r"^\s*([+-]?\d{1,4})\s*(wd|d|m)\s*$")
_UNIT_WORDS = {"wd": "working day", "d": "day", "m": "month"}


@dataclass(frozen=True)
class Offset:
    """A signed distance in one unit: working days (`wd`), calendar days (`d`) or months (`m`)."""

    n: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> Offset:
        """Read '3wd', '-2wd', '14d' or '6m'; raise ValueError on anything else."""
        match = _OFFSET.match(text)
        if not match:
            raise ValueError(f"not an offset: {text!r} (use e.g. 3wd, -2wd, 14d, 6m)")
        return cls(int(match.group(1)), match.group(2))

    def __str__(self) -> str:
        return f"{self.n}{self.unit}"

    def describe(self) -> str:
        word = _UNIT_WORDS[self.unit]
        count = abs(self.n)
        plural = "" if count == 1 else "s"
        if self.n < 0:
            return f"{count} {word}{plural} before"
        return f"{count} {word}{plural} after"


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _cal.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


# The regions of the United Kingdom by the names of their bank holidays (the holidays
# package's subdivisions; England's are those of England and Wales).
REGION_NAMES = {"GB-ENG": "England and Wales", "GB-WLS": "England and Wales",
                "GB-SCT": "Scotland", "GB-NIR": "Northern Ireland", "GB": "the United Kingdom"}


class WorkingDays:
    """Working days of one region in one time zone; pure apart from the holiday tables."""

    def __init__(
        self,
        timezone: str = "Europe/London",
        country: str = "GB",
        subdiv: str | None = "ENG",
        day_start: time = time(9, 0),
    ) -> None:
        self.zone = ZoneInfo(timezone)
        self.timezone = timezone
        self.country = country
        self.subdiv = subdiv
        self.day_start = day_start
        self._working: dict[date, bool] = {}

    @cached_property
    def _holidays(self) -> Any:
        import holidays  # imported on first use: it is slow to load and most commands

        return holidays.country_holidays(self.country, subdiv=self.subdiv)

    @property
    def region(self) -> str:
        return f"{self.country}-{self.subdiv}" if self.subdiv else self.country

    @property
    def region_name(self) -> str:
        """The region's holidays as people name them: "England and Wales"."""
        return REGION_NAMES.get(self.region, self.region)

    def is_working_day(self, day: date) -> bool:
        # Remembered per day: the holiday table's own lookup is slow, and every timer
        # armed steps through days one at a time.
        known = self._working.get(day)
        if known is None:
            known = self._working[day] = day.weekday() < 5 and day not in self._holidays
        return known

    def holiday_name(self, day: date) -> str | None:
        name = self._holidays.get(day)
        return str(name) if name else None

    def add_working_days(self, day: date, n: int) -> date:
        """Step `n` working days from `day` (backwards when negative); 0 returns `day`."""
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie after `start` up to and including `end`."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def local(self, moment: datetime) -> datetime:
        return _aware(moment).astimezone(self.zone)

    def local_date(self, moment: datetime) -> date:
        return self.local(moment).date()

    def start_of(self, day: date) -> datetime:
        """The start of the board's working day on `day`, in UTC."""
        return datetime.combine(day, self.day_start, tzinfo=self.zone).astimezone(UTC)

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def shift(self, moment: datetime, offset: Offset, *, roll: bool = False) -> datetime:
        """`moment` moved by `offset` on local dates, keeping the local time of day; UTC.

        `roll`: a distance in calendar days or months that lands on a weekend or a bank
        holiday moves on to the next working day (a statutory clock "due within 14 days"
        falls due on a day someone is at work to act on it). Working-day distances always
        land on a working day (or on the anchor's own day, for 0wd).

        A moment that would fall outside the calendar (before the year 1 or after 9999) is
        InvalidInput, not an overflow deep in the arithmetic."""
        _aware(moment)
        try:
            local = self.local(moment)
            day = local.date()
            if offset.unit == "wd":
                day = self.add_working_days(day, offset.n)
            else:
                day = day + timedelta(days=offset.n) if offset.unit == "d" \
                    else add_months(day, offset.n)
                if roll:
                    day = self.next_working_day(day)
            shifted = datetime.combine(day, local.timetz().replace(tzinfo=None),
                                       tzinfo=self.zone)
            return shifted.astimezone(UTC)
        except (OverflowError, ValueError):
            # Date arithmetic past either end raises OverflowError; date() for the year
            # 10000 (add_months) raises ValueError.
            raise InvalidInput(f"{offset.describe()} {moment.date().isoformat()} falls "
                               "outside the calendar") from None


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime reached the calendar; pass timezone-aware moments")
    return moment
