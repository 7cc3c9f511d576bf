"""``pgcrisis logs --format json``: the log's report in the shape of
``schemas/logs.schema.json`` (times in UTC, ISO 8601; findings as triage's contract writes
them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pgcrisis.durations import exact_ms
from pgcrisis.logs.summary import ErrorGroup, LogReport, Minute, TimedGroup
from pgcrisis.presentation.triage_json import finding_to_json

SCHEMA_ID = "pgcrisis.logs/1"


def _t(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _minute(m: Minute) -> dict[str, Any]:
    return {"t": _t(m.start), "records": m.records,
            "counts": {k: n for k, n in m.counts.items() if n},
            "sqlstates": dict(m.sqlstates), "slow_max_ms": exact_ms(m.slow_max_ms)}


def _error(e: ErrorGroup) -> dict[str, Any]:
    return {"severity": e.severity, "sqlstate": e.sqlstate, "count": e.count,
            "first": _t(e.first), "last": _t(e.last), "message": e.message,
            "statement": e.statement}


def _timed(g: TimedGroup, key: str) -> dict[str, Any]:
    return {key: g.key, "count": g.count, "total_ms": exact_ms(g.total_ms),
            "p95_ms": exact_ms(g.p95_ms), "max_ms": exact_ms(g.max_ms)}


def report_to_json(report: LogReport) -> dict[str, Any]:
    """The whole report as one object."""
    source, unread = report.source, report.source.unread
    return {
        "schema": SCHEMA_ID,
        "source": {"files": list(source.files), "format": source.format,
                   "wrapper": source.wrapper or None, "prefix": source.prefix,
                   "prefix_source": source.prefix_source or None,
                   "lines": source.lines, "records": source.records},
        "window": {"from": _t(report.start), "to": _t(report.end),
                   "asked_from": _t(report.asked[0]), "asked_to": _t(report.asked[1])},
        "records": report.records,
        "severities": dict(report.severities),
        "unparsed": unread.count,
        "first_unparsed": ({"file": unread.file, "line": unread.line, "text": unread.text}
                           if unread.count else None),
        "findings": [finding_to_json(f) for f in report.findings],
        "worst_minutes": [_t(m.start) for m in report.worst],
        "minutes": [_minute(m) for m in report.minutes],
        "errors": [_error(e) for e in report.errors],
        "slow_statements": [_timed(g, "statement") for g in report.slow],
        "views": [_timed(g, "view") for g in report.views],
        "notes": list(report.notes),
        "exit_code": report.exit_code,
    }


def render(report: LogReport) -> str:
    """JSON text, one object, newline-terminated."""
    return json.dumps(report_to_json(report), indent=2) + "\n"
