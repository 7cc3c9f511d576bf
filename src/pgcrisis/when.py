"""Times and durations as people type them, and times as output shows them.

A person on call types ``09:14`` (today, local time) or an ISO 8601 moment, with or without
an offset (without one it is local time); a duration as ``1s``, ``500ms``, ``14d``. Output
always says which zone a time is in, so a recording read in another zone, or across a DST
change, is never misread.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from pgcrisis.errors import ConfigError

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)?$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0,
           "w": 604800.0}


def local_zone() -> tzinfo:
    """This machine's zone (what a typed ``09:14`` means)."""
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone


def parse_moment(text: str, *, now: datetime | None = None) -> datetime:
    """An aware datetime from ``HH:MM[:SS]`` (today, local) or ISO 8601 (local if no offset).

    >>> parse_moment("2026-11-26T09:14:00+01:00").isoformat()
    '2026-11-26T09:14:00+01:00'
    >>> now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    >>> parse_moment("09:14", now=now).time().isoformat()
    '09:14:00'
    """
    value = text.strip()
    clock = _CLOCK.match(value)
    if clock:
        hour, minute, second = int(clock[1]), int(clock[2]), int(clock[3] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ConfigError(f"{text!r} is not a time of day (HH:MM or HH:MM:SS)")
        base = (now or datetime.now(UTC)).astimezone(local_zone() if now is None
                                                     else (now.tzinfo or UTC))
        return base.replace(hour=hour, minute=minute, second=second, microsecond=0)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{text!r} is not a time: give HH:MM[:SS] (today, local time) or "
                          "ISO 8601, e.g. 2026-11-26T09:14 or 2026-11-26T09:14+01:00") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=local_zone())


def parse_duration(text: str) -> timedelta:
    """``1s``, ``500ms``, ``5m``, ``48h``, ``14d``, ``2w`` (a bare number is seconds).

    >>> parse_duration("500ms").total_seconds(), parse_duration("14d").days
    (0.5, 14)
    """
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ConfigError(f"{text!r} is not a duration: give e.g. 1s, 500ms, 5m, 48h, 14d")
    return timedelta(seconds=float(match[1]) * _UNIT_S[match[2] or "s"])


def parse_size(text: str) -> int:
    """Bytes from ``500MB``, ``1GiB``, ``2g`` (binary units).

    >>> parse_size("1GiB"), parse_size("10m")
    (1073741824, 10485760)
    """
    match = re.match(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$", text.strip().lower())
    if not match:
        raise ConfigError(f"{text!r} is not a size: give e.g. 500MB, 1GiB")
    power = " kmgt".index(match[2] or " ")
    return int(float(match[1]) * 1024 ** power)


def shown(moment: datetime, zone: tzinfo | None = None) -> str:
    """``2026-11-26 09:14:03 CET``: a moment in the local (or given) zone, naming the zone."""
    local = moment.astimezone(zone or local_zone())
    return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or local.strftime("%z"))
