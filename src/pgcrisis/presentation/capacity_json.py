"""``pgcrisis capacity --format json``: the report for a billing system or a script, in the
shape of ``schemas/capacity.schema.json`` (``pgcrisis.capacity/1``)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pgcrisis.capacity.forecast import Exhaustion
from pgcrisis.capacity.report import CapacityReport, Resource

SCHEMA_ID = "pgcrisis.capacity/1"


def _day(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def exhaustion_to_json(e: Exhaustion) -> dict[str, Any]:
    """A forecast: its verdict, date and interval (ISO days), level, model and reason, and
    for a "cannot tell" the earliest the fastest plausible growth would reach the limit."""
    return {"verdict": e.verdict.value, "when": _day(e.when), "low": _day(e.low),
            "high": _day(e.high), "level": e.level, "model": e.model, "reason": e.reason,
            "earliest": _day(e.earliest)}


def resource_to_json(r: Resource) -> dict[str, Any]:
    """A resource, with its daily history ([day, value] pairs)."""
    return {"key": r.key, "label": r.label, "unit": r.unit, "current": r.current,
            "limit": r.limit, "limit_source": r.limit_source,
            "exhaustion": exhaustion_to_json(r.exhaustion),
            "history": [[d.isoformat(), v] for d, v in r.history]}


def report_to_json(report: CapacityReport) -> dict[str, Any]:
    """The whole report as the schema's top-level object."""
    first = report.first
    return {
        "schema": SCHEMA_ID,
        "name": report.name,
        "generated_at": report.generated_at.isoformat(),
        "source": report.source,
        "today": None if report.today is None else report.today.isoformat(),
        "history_days": report.history_days,
        "level": report.level,
        "first": None if first is None else first.key,
        "resources": [resource_to_json(r) for r in report.resources],
        "plans": [{"name": p.name, "fits_now": p.fits_now, "limiting": p.limiting,
                   "outgrown": None if p.outgrown is None else exhaustion_to_json(p.outgrown),
                   "summary": p.summary} for p in report.plans],
        "months": [{"month": m.month.isoformat()[:7], "inserted": m.inserted,
                    "updated": m.updated, "deleted": m.deleted} for m in report.months],
        "days": [{"day": d.day.isoformat(), "inserted": d.inserted, "updated": d.updated,
                  "deleted": d.deleted} for d in report.days],
        "needs": list(report.needs),
    }


def render(report: CapacityReport) -> str:
    """The JSON document, one trailing newline."""
    return json.dumps(report_to_json(report), indent=2) + "\n"
