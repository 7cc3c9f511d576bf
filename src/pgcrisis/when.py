"""Moments as people type them, and as output shows them (durations: :mod:`pgcrisis.durations`).

A person on call types ``09:14`` or an ISO 8601 moment, with or without an offset (without
one it is local time). What they type is something that already happened (an incident's
start, the moment or window of a recording to judge), so a bare ``09:14`` is its latest past
occurrence: today's if it has passed, else yesterday's (just after midnight, ``09:14`` is
yesterday morning, not nine hours ahead), and a moment in the future is refused. Output always
says which zone a time is in, so a recording read in another zone, or across a DST change, is
never misread.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, tzinfo

from pgcrisis.errors import ConfigError

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_EPOCH = datetime(1970, 1, 1)

#: How far ahead of this machine's clock a typed moment may be and still count as now: two
#: machines' clocks differ by a little (the dashboard's browser), and a live recording's end
#: is its last sample plus a second.
CLOCK_SKEW = timedelta(seconds=5)

#: How every ``TIME`` option describes what it takes.
MOMENT_HELP = "HH:MM[:SS] (local time, its latest past occurrence) or ISO 8601"


class _SystemZone(tzinfo):
    """This machine's zone ($TZ, /etc/localtime) with its DST rules: the C library is asked
    for the offset in force at each moment, so a time last winter is shown, and a wall-clock
    time yesterday is read, with the offset of its own day, not today's."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return self._local(dt).utcoffset()

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return self._local(dt).tzname()

    def fromutc(self, dt: datetime) -> datetime:
        delta = dt.replace(tzinfo=None) - _EPOCH
        local = datetime.fromtimestamp(delta.days * 86400 + delta.seconds)  # fold set
        return local.replace(microsecond=dt.microsecond, tzinfo=self)

    def __repr__(self) -> str:
        return "local_zone()"

    @staticmethod
    def _local(dt: datetime | None) -> datetime:
        # a naive datetime's astimezone() asks the C library (mktime), honouring ``fold``
        return (datetime.now() if dt is None else dt.replace(tzinfo=None)).astimezone()


_LOCAL = _SystemZone()


def local_zone() -> tzinfo:
    """This machine's zone (what a typed ``09:14`` means), with its DST rules."""
    return _LOCAL


def parse_moment(text: str, *, now: datetime | None = None) -> datetime:
    """An aware datetime from what a person typed for a moment that has passed.

    ``HH:MM[:SS]`` is local time, its latest occurrence at or before ``now``; ISO 8601 is
    taken as written (local time if it has no offset). ``now`` (aware; default: this
    machine's clock) also gives the zone a bare time is read in. A moment after ``now`` is
    refused (:class:`ConfigError`, one line).

    >>> now = datetime(2026, 11, 26, 0, 5, tzinfo=UTC)
    >>> parse_moment("09:14", now=now).isoformat()          # just after midnight: yesterday
    '2026-11-25T09:14:00+00:00'
    >>> parse_moment("00:01", now=now).isoformat()
    '2026-11-26T00:01:00+00:00'
    >>> parse_moment("2026-11-25T09:14:00+01:00", now=now).isoformat()
    '2026-11-25T09:14:00+01:00'
    >>> parse_moment("2026-11-26T09:14", now=now)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    pgcrisis.errors.ConfigError: '2026-11-26T09:14' is in the future (2026-11-26 09:14:00 UTC)...
    """
    current = now if now is not None else datetime.now(UTC)
    if current.tzinfo is None:
        raise ValueError("parse_moment needs an aware 'now'")
    zone = current.tzinfo if now is not None else _LOCAL
    value = text.strip()
    clock = _CLOCK.match(value)
    if clock:
        hour, minute, second = int(clock[1]), int(clock[2]), int(clock[3] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ConfigError(f"{text!r} is not a time of day (HH:MM or HH:MM:SS)")
        return _latest(time(hour, minute, second), current, zone)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{text!r} is not a time: give {MOMENT_HELP}, e.g. 09:14, "
                          "2026-11-26T09:14 or 2026-11-26T09:14+01:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if moment > current + CLOCK_SKEW:
        raise ConfigError(f"{text!r} is in the future ({shown(moment, zone)}): give a moment "
                          "that has passed")
    return moment


def _latest(clock: time, now: datetime, zone: tzinfo) -> datetime:
    """The latest moment at or before ``now`` whose wall-clock time in ``zone`` is ``clock``:
    today's, else yesterday's, each day with its own offset."""
    today = now.astimezone(zone).date()
    moment = datetime.combine(today, clock, tzinfo=zone)
    if moment.astimezone(UTC) <= now.astimezone(UTC):
        return moment
    return datetime.combine(today - timedelta(days=1), clock, tzinfo=zone)


def shown(moment: datetime, zone: tzinfo | None = None) -> str:
    """``2026-11-26 09:14:03 CET``: a moment in the local (or given) zone, naming the zone."""
    local = moment.astimezone(zone or local_zone())
    return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or local.strftime("%z"))
