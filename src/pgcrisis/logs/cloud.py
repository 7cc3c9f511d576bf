"""The server's log as JSON from a cloud: Google Cloud Logging's entries (one per line, or
the JSON array ``gcloud logging read --format=json`` and the console export write), and
CloudNativePG's records (``kubectl logs`` of a CloudNativePG instance: the server's csvlog
turned into JSON beside the instance manager's own lines).

A Cloud Logging entry holds the server's line in ``textPayload`` (Cloud SQL's, with its
prefix ``%m [%p]: [%l-1] db=%d,user=%u``) or its fields in ``jsonPayload`` (a jsonlog line
an agent parsed, or a CloudNativePG record); the entry's ``timestamp`` is set on the line.
A CloudNativePG record's fields have csvlog's names (``log_time``, ``error_severity``...).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from pgcrisis.logs.record import Line
from pgcrisis.logs.wrappers import Wrapper

#: keys that say a JSON object is a Cloud Logging entry
ENTRY_KEYS = ("logName", "insertId", "textPayload", "jsonPayload", "protoPayload")
#: keys of the server's own fields (jsonlog's or csvlog's) in a ``jsonPayload``
SERVER_KEYS = ("error_severity",)
#: a buffered JSON value larger than this is not an entry still being read, but garbage
MAX_ENTRY = 1 << 22


def parse_time(value: object) -> datetime | None:
    """An entry's or record's time: RFC 3339 text, or seconds since the epoch.

    >>> parse_time("2026-12-06T08:00:01.123456789Z")
    datetime.datetime(2026, 12, 6, 8, 0, 1, 123456, tzinfo=datetime.timezone.utc)
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _pid(fields: dict[str, Any]) -> int | None:
    value = fields.get("process_id", fields.get("pid"))
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def objects(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, Any, str]]:
    """``(first line, JSON value, text)`` of each value in ``lines``: one a line, or values
    spread over lines (pretty-printed), or the items of an array (``text`` is ``""`` then).
    A line that is no part of a JSON value is given as ``(number, None, text)``."""
    decoder = json.JSONDecoder()
    buffer, start = "", 0
    for number, text in lines:
        if not buffer:
            stripped = text.strip()
            if stripped in ("", "[", "]", ",", "[]"):
                continue
            if stripped[0] == "{" and stripped[-1] == "}":
                try:
                    yield number, json.loads(stripped), text
                    continue
                except ValueError:
                    pass
            if stripped[0] not in "[{,":
                yield number, None, text
                continue
            start = number
        buffer += text + "\n"
        if not text.rstrip().endswith(("}", "},", "}]", "]")):
            continue
        pos = 0
        while True:
            while pos < len(buffer) and buffer[pos] in " \t\r\n,[]":
                pos += 1
            if pos == len(buffer):
                buffer = ""
                break
            try:
                value, pos = decoder.raw_decode(buffer, pos)
            except ValueError:
                buffer = buffer[pos:]
                if len(buffer) > MAX_ENTRY:
                    yield start, None, buffer[:200]
                    buffer = ""
                break
            yield start, value, ""
    if buffer.strip(" \t\r\n,[]"):
        yield start, None, buffer[:200]


class CloudLogging(Wrapper):
    """Google Cloud Logging entries holding the server's lines or fields."""

    name = "Google Cloud Logging"

    @classmethod
    def fits(cls, sample: Sequence[str]) -> CloudLogging | None:
        head = "\n".join(sample).lstrip()
        if not head.startswith(("{", "[")):
            return None
        found = [v for _, v, _ in objects(enumerate(sample, 1)) if isinstance(v, dict)]
        if found:
            return cls() if any(k in found[0] for k in ENTRY_KEYS) else None
        # a sample that ends inside the first entry: its keys are there as text
        return cls() if any(f'"{k}"' in head for k in ENTRY_KEYS) else None

    def unwrap(self, lines: Iterable[tuple[int, str]], file: str) -> Iterator[Line]:
        for number, value, text in objects(lines):
            if not isinstance(value, dict):
                if value is None:
                    yield Line(text, number, file)
                continue
            time = parse_time(value.get("timestamp"))
            payload = value.get("textPayload")
            fields = value.get("jsonPayload")
            if isinstance(payload, str):
                for piece in payload.rstrip("\n").split("\n"):
                    yield Line(piece, number, file, time)
            elif isinstance(fields, dict) and isinstance(fields.get("record"), dict):
                record = fields["record"]  # a CloudNativePG record, through GKE's agent
                yield Line("", number, file, time, _pid(record), record)
            elif isinstance(fields, dict) and any(k in fields for k in SERVER_KEYS):
                yield Line("", number, file, time, _pid(fields), fields)
            else:
                self.others += 1


class CloudNativePG(Wrapper):
    """CloudNativePG's JSON lines: the server's records (``logger`` ``postgres``, a
    ``record`` of csvlog fields) among the instance manager's own lines."""

    name = "CloudNativePG"

    @classmethod
    def fits(cls, sample: Sequence[str]) -> CloudNativePG | None:
        for line in sample:
            value = _json_line(line)
            if isinstance(value, dict) and ("logging_pod" in value or (
                    value.get("logger") == "postgres" and isinstance(value.get("record"), dict))):
                return cls()
        return None

    def unwrap(self, lines: Iterable[tuple[int, str]], file: str) -> Iterator[Line]:
        for number, text in lines:
            value = _json_line(text)
            if value is None:
                if text.strip():  # not JSON: given as it is, for the reader to count
                    yield Line(text, number, file)
                continue
            record = value.get("record") if value.get("logger") == "postgres" else None
            if not isinstance(record, dict):
                self.others += 1
                continue
            yield Line("", number, file, parse_time(value.get("ts")), _pid(record), record)


def _json_line(line: str) -> dict[str, Any] | None:
    """The JSON object of a line (``kubectl logs --timestamps`` puts a time before it)."""
    start = line.find("{")
    if start < 0 or (start > 0 and not line[:start].rstrip()[-1:].isalnum()):
        return None
    try:
        value = json.loads(line[start:])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
