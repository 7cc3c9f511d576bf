"""The records of the csvlog and jsonlog files a real server wrote, as
:class:`pgcrisis.logs.record.LogRecord` (every field, and where each was read).

A small stand-in for the log reader (``pgcrisis.logs.read.LogReader``) while it is being
written: the log-findings tests read the server's own files with Python's csv and json
modules, so what they judge is what the server wrote, nothing hand-made.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pgcrisis.logs.fields import CSV_FIELDS
from pgcrisis.logs.record import LogRecord


def log_time(text: str) -> datetime:
    """``2026-12-06 08:20:01.123 UTC`` (the server's log_timezone is UTC in the tests)."""
    value, _, zone = text.strip().rpartition(" ")
    if not value or zone[:1].isdigit():
        value = text.strip()
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def csv_records(path: Path) -> Iterator[LogRecord]:
    """Every record of one csvlog file, with its first and last line."""
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        before = 0
        for row in reader:
            first, before = before + 1, reader.line_num
            f = dict(zip(CSV_FIELDS, row, strict=False))
            yield LogRecord(
                log_time(f["log_time"]), f["error_severity"], f["sql_state_code"],
                f["message"], f["query"], f["application_name"],
                _int(f.get("query_id")) or None, _int(f["process_id"]), f["user_name"],
                f["database_name"], f["connection_from"], f["detail"], f["hint"],
                f["context"], f["internal_query"], f.get("backend_type", ""),
                f["session_id"], str(path), first, reader.line_num)


def json_records(path: Path) -> Iterator[LogRecord]:
    """Every record of one jsonlog file (one object a line)."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            o = json.loads(line)
            host = str(o.get("remote_host", ""))
            port = o.get("remote_port")
            yield LogRecord(
                log_time(str(o["timestamp"])), str(o["error_severity"]),
                str(o.get("state_code", "")), str(o.get("message", "")),
                str(o.get("statement", "")), str(o.get("application_name", "")),
                _int(o.get("query_id")) or None, _int(o.get("pid")), str(o.get("user", "")),
                str(o.get("dbname", "")), f"{host}:{port}" if host and port else host,
                str(o.get("detail", "")), str(o.get("hint", "")), str(o.get("context", "")),
                str(o.get("internal_query", "")), str(o.get("backend_type", "")),
                str(o.get("session_id", "")), str(path), number, number)


def records(log_dir: Path, fmt: str) -> list[LogRecord]:
    """The records of every file of ``fmt`` (csvlog, jsonlog) in ``log_dir``, in the order
    written (files by name, which is by time)."""
    suffix, read = {"csvlog": (".csv", csv_records), "jsonlog": (".json", json_records)}[fmt]
    out: list[LogRecord] = []
    for path in sorted(log_dir.glob(f"*{suffix}")):
        out.extend(read(path))
    return out
