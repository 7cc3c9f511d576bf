"""``pgcrisis capacity --store postgresql://… --all --format json`` (and ``serve``'s
``/api/fleet``): the ranked rows as one JSON document. Moments are ISO 8601 in UTC, dates
``YYYY-MM-DD``; what is unknown is ``null``, with the row's ``note`` saying why.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pgcrisis.capacity.fleet import FleetRow
from pgcrisis.capacity.report import Resource
from pgcrisis.presentation.fleet_text import first_words, worst_words

JSON = dict[str, Any]


def _day(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _first(first: Resource | None) -> JSON | None:
    if first is None:
        return None
    e = first.exhaustion
    return {"key": first.key, "label": first.label, "unit": first.unit,
            "current": first.current, "limit": first.limit,
            "limit_source": first.limit_source, "verdict": str(e.verdict),
            "when": _day(e.when), "low": _day(e.low), "high": _day(e.high), "level": e.level,
            "reason": e.reason}


def row_document(r: FleetRow) -> JSON:
    """One row, with the words every renderer shows beside the figures."""
    w = r.worst
    return {"name": r.name, "live": r.live,
            "last_sample": r.last_sample.isoformat() if r.last_sample else None,
            "worst": None if w is None else {
                "at": w.at.isoformat(), "severity": None if w.severity is None else str(w.severity),
                "code": w.code or None, "title": w.title or None},
            "worst_words": worst_words(r),
            "seized_minutes_week": r.seized_week, "first": _first(r.first),
            "first_words": first_words(r.first, r.note if r.first is None else ""),
            "spark": {"label": r.spark.label, "values": list(r.spark.values)},
            "note": r.note or None}


def fleet(rows: list[FleetRow]) -> str:
    """The fleet as JSON text (the rows in their rank)."""
    return json.dumps({"recordings": [row_document(r) for r in rows]}, indent=2) + "\n"
