"""Times as people type them: a bare ``HH:MM`` is its latest past occurrence (yesterday's,
just after midnight), across a DST change with the offset of its own day; a moment in the
future is refused; output names the zone. Every ``now`` is fixed, so no test depends on this
machine's clock or zone."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pgcrisis.errors import ConfigError
from pgcrisis.when import CLOCK_SKEW, parse_moment, shown

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_bare_time_just_after_midnight_is_yesterdays() -> None:
    now = datetime(2026, 11, 26, 0, 5, tzinfo=BERLIN)
    since = parse_moment("09:02", now=now)
    assert since == datetime(2026, 11, 25, 9, 2, tzinfo=BERLIN)
    assert now - since == timedelta(hours=15, minutes=3)


def test_a_bare_time_already_past_today_is_todays() -> None:
    now = datetime(2026, 11, 26, 0, 5, 30, tzinfo=BERLIN)
    assert parse_moment("00:01", now=now) == datetime(2026, 11, 26, 0, 1, tzinfo=BERLIN)
    assert parse_moment("00:05:30", now=now) == now  # this very second is not the future
    assert parse_moment("00:05:31", now=now) == datetime(2026, 11, 25, 0, 5, 31, tzinfo=BERLIN)


@pytest.mark.parametrize(("now", "typed", "offset_h", "ago"), [
    # the morning after clocks went forward (CET -> CEST): yesterday was +01:00
    (datetime(2026, 3, 29, 8, 0, tzinfo=BERLIN), "09:02", 1, timedelta(hours=21, minutes=58)),
    # the morning after clocks went back (CEST -> CET): yesterday was +02:00
    (datetime(2026, 10, 25, 8, 0, tzinfo=BERLIN), "09:02", 2, timedelta(hours=23, minutes=58)),
])
def test_yesterdays_time_across_a_dst_change_has_yesterdays_offset(
        now: datetime, typed: str, offset_h: int, ago: timedelta) -> None:
    moment = parse_moment(typed, now=now)
    assert moment.utcoffset() == timedelta(hours=offset_h)
    assert (moment.hour, moment.minute, moment.day) == (9, 2, now.day - 1)
    assert now.astimezone(UTC) - moment.astimezone(UTC) == ago  # real time, not wall time


def test_an_iso_moment_is_taken_as_written_and_refused_in_the_future() -> None:
    now = datetime(2026, 11, 26, 0, 5, tzinfo=UTC)
    assert parse_moment("2026-11-25T23:00:00-01:00", now=now) == now - timedelta(minutes=5)
    assert parse_moment("2026-11-25T22:00", now=now) == datetime(2026, 11, 25, 22, tzinfo=UTC)
    with pytest.raises(ConfigError, match=r"^'2026-11-26T09:02' is in the future "
                                          r"\(2026-11-26 09:02:00 UTC\): give a moment that"):
        parse_moment("2026-11-26T09:02", now=now)
    ahead = now + CLOCK_SKEW  # another machine's clock a little ahead (the dashboard's)
    assert parse_moment(ahead.isoformat(), now=now) == ahead
    with pytest.raises(ConfigError, match="in the future"):
        parse_moment((ahead + timedelta(seconds=1)).isoformat(), now=now)


@pytest.mark.parametrize("bad", ["25:00", "09:60", "yesterday", "9h14", "", "2026-13-01"])
def test_what_is_not_a_time_is_one_line(bad: str) -> None:
    with pytest.raises(ConfigError, match="is not a time") as raised:
        parse_moment(bad, now=datetime(2026, 11, 26, 0, 5, tzinfo=UTC))
    assert "\n" not in str(raised.value)


def test_without_now_this_machines_zone_with_its_dst_rules() -> None:
    """Local time is $TZ's, each moment with the offset of its own day (set here, so the
    test reads the same on every machine)."""
    code = ("from datetime import datetime, UTC\n"
            "from pgcrisis.when import parse_moment, shown\n"
            "print(shown(datetime(2026, 1, 5, 12, tzinfo=UTC)))\n"
            "print(shown(datetime(2026, 7, 5, 12, tzinfo=UTC)))\n"
            "print(parse_moment('2026-01-05T10:00').isoformat())\n"
            "print(parse_moment('2026-07-05T10:00').isoformat())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "TZ": "Europe/Berlin"}).stdout
    assert out.splitlines() == ["2026-01-05 13:00:00 CET", "2026-07-05 14:00:00 CEST",
                                "2026-01-05T10:00:00+01:00", "2026-07-05T10:00:00+02:00"]


def test_output_names_the_zone() -> None:
    assert shown(datetime(2026, 11, 26, 8, 14, 3, tzinfo=UTC), BERLIN) == \
        "2026-11-26 09:14:03 CET"
