"""pg_cron schedules, parsed and expanded, so checks can ask "when does this job run?".

pg_cron reads the classic five fields (minute, hour, day of month, month, day of week) with
vixie cron's grammar: ``*``, numbers, ranges ``a-b``, steps ``*/n`` and ``a-b/n``, lists
``a,b``, month and weekday names, and the macros ``@yearly`` ... ``@hourly`` and ``@reboot``.
Newer pg_cron (1.5+) also takes ``'N seconds'``; it is understood here as a fixed interval.

Day matching follows vixie cron, which pg_cron copies: when both day of month and day of week
are restricted, a day matches if *either* does. A run's "day" is judged over a reference
(non-leap) year, so averages like :attr:`CronSchedule.runs_per_day` cover monthly and weekly
jobs as well.

>>> CronSchedule.parse("*/15 9-10 * * *").minutes_of_day[:3]
(540, 555, 570)
>>> CronSchedule.parse("@daily").interval_s
86400.0
>>> hh_mm(185), daily_at(185)
('03:05', '5 3 * * *')
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, timedelta

MINUTES_PER_DAY = 1440
SECONDS_PER_DAY = 86400.0

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_SECONDS = re.compile(r"^\s*(\d+)\s+seconds?\s*$", re.IGNORECASE)
#: the reference year days are judged over (2025: not a leap year, starts on a Wednesday)
_REFERENCE_YEAR = 2025


def _number(token: str, low: int, high: int, names: tuple[str, ...], offset: int) -> int:
    if token.isdigit():
        value = int(token)
    elif token.lower() in names:
        value = names.index(token.lower()) + offset
    else:
        raise ValueError(f"not a number or name: {token!r}")
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}-{high}")
    return value


def _field(text: str, low: int, high: int, names: tuple[str, ...] = (),
           offset: int = 0) -> frozenset[int]:
    """Expand one field (``*/5``, ``1-5``, ``mon,wed``, ``8-18/2`` ...) into its values."""
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise ValueError(f"empty list element in {text!r}")
        span, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"bad step in {part!r}")
            step = int(step_text)
        if span == "*":
            first, last = low, high
        elif "-" in span:
            a, _, b = span.partition("-")
            first = _number(a, low, high, names, offset)
            last = _number(b, low, high, names, offset)
            if last < first:
                raise ValueError(f"backwards range {part!r}")
        else:
            first = _number(span, low, high, names, offset)
            last = high if step_text else first  # "5/10" means 5-max/10 in most crons
        values.update(range(first, last + 1, step))
    return frozenset(values)


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A pg_cron schedule: the sets each field allows, or a fixed ``every_s`` interval."""

    text: str
    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    days: frozenset[int] = frozenset()       # day of month, 1-31
    months: frozenset[int] = frozenset()     # 1-12
    weekdays: frozenset[int] = frozenset()   # 0-6, Sunday is 0
    dom_restricted: bool = False
    dow_restricted: bool = False
    every_s: float | None = None             # 'N seconds' schedules
    reboot: bool = False                     # '@reboot': only when the server starts

    @classmethod
    def parse(cls, text: str) -> CronSchedule:
        """Parse a schedule as pg_cron would; raise ``ValueError`` if it is not one."""
        stripped = text.strip()
        seconds = _SECONDS.match(stripped)
        if seconds:
            n = int(seconds.group(1))
            if not 1 <= n <= 59:
                raise ValueError("an interval schedule takes 1 to 59 seconds")
            return cls(text=text, every_s=float(n))
        lowered = stripped.lower()
        if lowered == "@reboot":
            return cls(text=text, reboot=True)
        fields = _MACROS.get(lowered, stripped).split()
        if len(fields) != 5:
            raise ValueError(f"a schedule has 5 fields, not {len(fields)}: {text!r}")
        minute, hour, dom, month, dow = fields
        weekdays = _field(dow, 0, 7, _WEEKDAYS, 0)
        if 7 in weekdays:
            weekdays = (weekdays - {7}) | {0}
        return cls(
            text=text,
            minutes=_field(minute, 0, 59),
            hours=_field(hour, 0, 23),
            days=_field(dom, 1, 31),
            months=_field(month, 1, 12, _MONTHS, 1),
            weekdays=weekdays,
            dom_restricted=not dom.startswith("*"),
            dow_restricted=not dow.startswith("*"),
        )

    def fires_on(self, day: date) -> bool:
        """Whether the job runs on ``day`` at all (vixie cron's day-of-month/week rule)."""
        if self.every_s is not None:
            return True
        if self.reboot or day.month not in self.months:
            return False
        dom_ok = day.day in self.days
        dow_ok = (day.isoweekday() % 7) in self.weekdays
        if self.dom_restricted and self.dow_restricted:
            return dom_ok or dow_ok
        return dom_ok and dow_ok

    @property
    def minutes_of_day(self) -> tuple[int, ...]:
        """Minutes after midnight at which it starts, on a day it runs (sorted)."""
        if self.every_s is not None:
            return tuple(range(MINUTES_PER_DAY))
        return tuple(sorted(h * 60 + m for h in self.hours for m in self.minutes))

    def _firing_days(self) -> list[int]:
        start = date(_REFERENCE_YEAR, 1, 1)
        return [d for d in range(365) if self.fires_on(start + timedelta(days=d))]

    @property
    def runs_per_day(self) -> float:
        """Average runs per day over a year (0 for ``@reboot``)."""
        if self.every_s is not None:
            return SECONDS_PER_DAY / self.every_s
        if self.reboot:
            return 0.0
        return len(self.minutes_of_day) * len(self._firing_days()) / 365

    @property
    def interval_s(self) -> float | None:
        """The shortest time between two consecutive runs, or ``None`` for ``@reboot``.

        A job that runs every 5 minutes during office hours has an interval of 300 s: that is
        how often it runs when it runs.
        """
        if self.every_s is not None:
            return self.every_s
        minutes = self.minutes_of_day
        days = self._firing_days()
        if self.reboot or not minutes or not days:
            return None
        gaps = [b - a for a, b in itertools.pairwise(minutes)]
        # across midnight: from the last run of one firing day to the first of the next
        day_pairs = [*itertools.pairwise(days), (days[-1], days[0] + 365)]
        gaps.extend((d2 - d1) * MINUTES_PER_DAY + minutes[0] - minutes[-1]
                    for d1, d2 in day_pairs)
        return 60.0 * min(gaps)


def daily_at(minute_of_day: int) -> str:
    """The schedule that runs once a day at ``minute_of_day`` (e.g. 185 -> ``'5 3 * * *'``)."""
    minute_of_day %= MINUTES_PER_DAY
    return f"{minute_of_day % 60} {minute_of_day // 60} * * *"


def hh_mm(minute_of_day: int) -> str:
    """A minute of the day on a 24-hour clock (e.g. 185 -> ``03:05``; 1440 is ``00:00``)."""
    minute_of_day %= MINUTES_PER_DAY
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"
