"""The syslog header parser (:func:`pgcrisis.logs.syslog.parse_header`) against headers
written from arbitrary times, hosts, programs, processes and messages, in each style."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from pgcrisis.logs.syslog import MONTHS, parse_header

HOSTS = st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True)
PROGRAMS = st.from_regex(r"[A-Za-z][A-Za-z0-9_./@-]{0,20}", fullmatch=True)
PIDS = st.integers(1, 4_194_304)
MESSAGES = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=200)
TIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5.5))])


@given(TIMES, HOSTS, PROGRAMS, PIDS, MESSAGES)
def test_bsd_headers(time: datetime, host: str, program: str, pid: int, message: str) -> None:
    line = (f"{MONTHS[time.month - 1]} {time.day:2d} {time:%H:%M:%S} {host}"
            f" {program}[{pid}]: {message}")
    header = parse_header("BSD", line, time.year, 12)
    assert header is not None
    assert header == (time.replace(microsecond=0), program, pid, message)
    # in a file written in an earlier month of the next year, the year is still right
    later = parse_header("BSD", line, time.year + 1, max(time.month - 1, 1))
    assert later is not None and (later.time is None or later.time.year in (
        time.year, time.year + 1))


@given(TIMES, ZONES, HOSTS, PROGRAMS, PIDS, MESSAGES)
def test_iso_and_rfc5424_headers(time: datetime, zone: timezone, host: str, program: str,
                                 pid: int, message: str) -> None:
    when = time.replace(tzinfo=zone)
    iso = parse_header("ISO 8601", f"{when.isoformat()} {host} {program}[{pid}]: {message}")
    assert iso == (when, program, pid, message)
    rfc = parse_header("RFC 5424", f"<134>1 {when.isoformat()} {host} {program} {pid} - -"
                                   f" {message}")
    assert rfc == (when, program, pid, message)
    with_data = parse_header(
        "RFC 5424", f'<14>1 {when.isoformat()} {host} {program} {pid} ID47'
                    f' [ex@32473 iut="3" note="a \\] b"][meta x="1"] {message}')
    assert with_data == (when, program, pid, message)


@given(TIMES, HOSTS, MESSAGES)
def test_a_line_without_a_header_has_none(time: datetime, host: str, message: str) -> None:
    line = f"{time:%Y-%m-%d %H:%M:%S} UTC [{host}] LOG:  {message}"
    assert all(parse_header(style, line) is None for style in ("BSD", "ISO 8601", "RFC 5424"))
