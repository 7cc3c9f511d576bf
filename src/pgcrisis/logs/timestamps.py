"""The times a log writes (``2026-11-26 09:14:03.250 UTC``, ``... +01``, ISO 8601, epoch
seconds) as aware datetimes: parsed once per distinct zone text, cheaply per line."""

from __future__ import annotations

from datetime import UTC, datetime

from pgcrisis.errors import InputError

_SUFFIXES: dict[str, str] = {}


def _suffix(name: str) -> str:
    """The ISO 8601 offset of zone ``name``: UTC, a numeric offset (``+01``, ``-0530``,
    ``+05:30``); an abbreviation (``CET``) is taken as UTC (its offset is not in the line).
    (Given to ``fromisoformat``: ``datetime.replace(tzinfo=...)`` costs six times more.)

    >>> _suffix("-0530"), _suffix("+01"), _suffix("CET")
    ('-05:30', '+01:00', '+00:00')
    """
    suffix = _SUFFIXES.get(name)
    if suffix is None:
        suffix = "+00:00"
        digits = name[1:].replace(":", "")
        if name[:1] in "+-" and digits.isdigit() and len(digits) in (2, 4):
            suffix = f"{name[0]}{digits[:2]}:{digits[2:] or '00'}"
        _SUFFIXES[name] = suffix
    return suffix


def parse_time(text: str) -> datetime:
    """An aware datetime of a log's timestamp text.

    >>> parse_time("2026-11-26 09:14:03.250 UTC").isoformat()
    '2026-11-26T09:14:03.250000+00:00'
    >>> parse_time("2026-11-26 09:14:03 +01").isoformat()
    '2026-11-26T09:14:03+01:00'
    >>> parse_time("2026-11-26T09:14:03.250Z").isoformat()
    '2026-11-26T09:14:03.250000+00:00'
    """
    if len(text) > 20 and text[10] == " " and text[19] in ". ":  # the server's own form
        cut = text.find(" ", 19)
        try:
            return datetime.fromisoformat(text[:cut] + _suffix(text[cut + 1:]) if cut > 0
                                          else text + "+00:00")
        except ValueError:
            raise InputError(f"{text!r} is not a timestamp of the log") from None
    head, _, zone = text.strip().partition(" ")
    if zone:
        rest, _, zone = zone.partition(" ")
        head = f"{head} {rest}"
    if not zone and head[-1:] == "Z":
        head, zone = head[:-1], "Z"
    try:
        moment = datetime.fromisoformat(head)
    except ValueError:
        raise InputError(f"{text!r} is not a timestamp of the log") from None
    if moment.tzinfo is not None:
        return moment
    return datetime.fromisoformat(head + _suffix(zone or "UTC"))


def epoch_time(text: str) -> datetime:
    """A ``%n`` timestamp (seconds since the epoch, with milliseconds).

    >>> epoch_time("1764148443.250").isoformat()
    '2025-11-26T09:14:03.250000+00:00'
    """
    return datetime.fromtimestamp(float(text), UTC)
