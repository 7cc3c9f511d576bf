"""Durations: read as people type them, written in the style each place shows them in.

Every duration pgcrisis reads or writes goes through here, so each style reads the same
wherever it is used. Seconds in, text out:

- ``words``: ``41 s``, ``2 min 5 s``, ``2 h 1 min``; findings, the incident's post-mortem
- ``compact``: ``4s``, ``3m04s``, ``2h01m``, ``2d07h``; narrow columns (``top``)
- ``decimal``: ``42.0 s``, ``10.0 min``, ``3.0 h``; ``cache``'s refresh times and windows
- ``period``: ``45 s``, ``5 min``, ``2 h``, ``1 day``; how often a pg_cron job runs
- ``ahead``: ``10 days``, ``7 weeks (5-11)``, ``14 months``; when ``capacity`` forecasts a
  resource runs out, with its interval in the same unit

Plans count in milliseconds, so ``explain`` writes them from milliseconds:

- ``ms``: ``3.1 ms``, ``1,234.5 ms``, ``12.3 s``; the plan's summary, tree and tips
- ``exact_ms``: a number rounded to the microsecond; what its JSON carries

>>> words(125), compact(184), decimal(600), period(86400), ms(12345)
('2 min 5 s', '3m04s', '10.0 min', '1 day', '12.3 s')
>>> parse("500ms").total_seconds(), parse("14d").days
(0.5, 14)
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import overload

from pgcrisis.errors import ConfigError

_TYPED = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)?$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0,
           "w": 604800.0}
#: compact's steps: (unit in seconds, its letter, the next unit down, its letter)
_COMPACT = ((86400, "d", 3600, "h"), (3600, "h", 60, "m"), (60, "m", 1, "s"))


def parse(text: str) -> timedelta:
    """``1s``, ``500ms``, ``5m``, ``48h``, ``14d``, ``2w`` (a bare number is seconds).

    >>> parse("48h") == timedelta(hours=48), parse("1.5").total_seconds()
    (True, 1.5)
    >>> parse("soon")
    Traceback (most recent call last):
    pgcrisis.errors.ConfigError: 'soon' is not a duration: give e.g. 1s, 500ms, 5m, 48h, 14d
    """
    match = _TYPED.match(text.strip().lower())
    if not match:
        raise ConfigError(f"{text!r} is not a duration: give e.g. 1s, 500ms, 5m, 48h, 14d")
    return timedelta(seconds=float(match[1]) * _UNIT_S[match[2] or "s"])


def words(seconds: float | None, unknown: str = "?") -> str:
    """To the second, in the two largest units: how long something has held or took.

    >>> words(41.2), words(125), words(7300), words(None), words(None, "not yet")
    ('41 s', '2 min 5 s', '2 h 1 min', '?', 'not yet')
    """
    if seconds is None:
        return unknown
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def lasted(seconds: float) -> str:
    """How long, finer under 10 s (a wait of 0.66 s is not "1 s", a gap of 35 ms not
    "0.0 s"), else as :func:`words`.

    >>> lasted(0.035), lasted(0.452), lasted(75)
    ('35 ms', '0.5 s', '1 min 15 s')
    """
    if seconds < 0.1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.1f} s" if seconds < 10 else words(seconds)


def compact(seconds: float | None) -> str:
    """Whole seconds in two units at most and no spaces, for a narrow column (empty when
    unknown).

    >>> compact(None), compact(4.9), compact(184), compact(7300), compact(200000)
    ('', '4s', '3m04s', '2h01m', '2d07h')
    """
    if seconds is None:
        return ""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    size, unit, part, part_unit = next(step for step in _COMPACT if s >= step[0])
    return f"{s // size}{unit}{s % size // part:02d}{part_unit}"


def decimal(seconds: float) -> str:
    """One decimal: seconds under two minutes, minutes under two hours, else hours.

    >>> decimal(42), decimal(600), decimal(10800)
    ('42.0 s', '10.0 min', '3.0 h')
    """
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def period(seconds: float) -> str:
    """How often something runs: a whole number of days, hours or minutes where it is one.

    >>> period(300), period(7200), period(172800), period(45), period(90)
    ('5 min', '2 h', '2 days', '45 s', '1.5 min')
    """
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if unit == 'day' and n > 1 else ''}"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.0f} s"


def ms(value_ms: float | None, *, fine_below: float = float("-inf")) -> str:
    """Milliseconds with one decimal (two under ``fine_below`` ms), seconds with one from
    10 s; ``-`` when unknown.

    >>> ms(3.14159), ms(3.14159, fine_below=10), ms(1234.56), ms(12345), ms(None)
    ('3.1 ms', '3.14 ms', '1,234.6 ms', '12.3 s', '-')
    """
    if value_ms is None:
        return "-"
    if value_ms >= 10_000:
        return f"{value_ms / 1000:,.1f} s"
    return f"{value_ms:,.2f} ms" if value_ms < fine_below else f"{value_ms:,.1f} ms"


@overload
def exact_ms(value_ms: float) -> float: ...


@overload
def exact_ms(value_ms: None) -> None: ...


def exact_ms(value_ms: float | None) -> float | None:
    """Milliseconds as a number, rounded to the microsecond (unknown stays unknown).

    >>> exact_ms(1.23456789), exact_ms(None)
    (1.235, None)
    """
    return None if value_ms is None else round(value_ms, 3)


def ahead(days: float, low: float | None = None, high: float | None = None) -> str:
    """Days ahead, in days under 3 weeks, weeks under 6 months, else months; with an
    interval in the same unit (``high`` None: open-ended).

    >>> ahead(10), ahead(49, 35, 77), ahead(420), ahead(100, 60, None), ahead(42, 40, 44)
    ('10 days', '7 weeks (5-11)', '14 months', '14 weeks (9-?)', '6 weeks')
    """
    unit, size = (("days", 1.0) if days < 21 else ("weeks", 7.0) if days < 183
                  else ("months", 30.0))
    text = f"{round(days / size)} {unit}"
    if low is None:
        return text
    lower, upper = f"{round(low / size)}", "?" if high is None else f"{round(high / size)}"
    return text if lower == upper == f"{round(days / size)}" else f"{text} ({lower}-{upper})"
