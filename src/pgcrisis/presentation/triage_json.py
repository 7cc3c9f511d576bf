"""``pgcrisis triage --format json``: exactly the shape of the triage contract (schema v1)."""

from __future__ import annotations

import json
from typing import Any

from pgcrisis.judge import TriageReport
from pgcrisis.model.findings import Finding
from pgcrisis.presentation import load_text

SCHEMA_ID = "pgcrisis.triage/1"


def finding_to_json(finding: Finding, caused_by: tuple[int, ...] = ()) -> dict[str, Any]:
    """One finding in contract form; ``caused_by`` (indexes into ``findings``) when set."""
    out: dict[str, Any] = {
        "code": finding.code,
        "severity": finding.severity.value,
        "title": finding.title,
        "detail": finding.detail,
        "objects": [o.to_json() for o in finding.objects],
        "evidence": dict(finding.evidence),
    }
    if finding.remedy is not None:
        out["remedy"] = {"summary": finding.remedy.summary, "sql": list(finding.remedy.sql)}
    if caused_by:
        out["caused_by"] = list(caused_by)
    return out


def report_to_json(report: TriageReport) -> dict[str, Any]:
    """The whole report as the contract's top-level object."""
    server = report.snapshot.server
    return {
        "schema": SCHEMA_ID,
        "target": {
            "server_version": server.server_version,
            "server_version_num": server.version_num,
            "database": server.database,
            "user": server.current_user,
            "dsn": report.target.redacted,
            **({"databases": list(report.databases)} if len(report.databases) > 1 else {}),
        },
        **({"recording": {"name": report.recording.name,
                          "from": report.recording.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "to": report.recording.end.strftime("%Y-%m-%dT%H:%M:%SZ")}}
           if report.recording is not None else {}),
        **({"load": load_text.to_json(report.snapshot.load)}
           if report.snapshot.load is not None else {}),
        "started_at": report.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_ms": round(report.duration_ms, 1),
        "findings": [finding_to_json(f, report.caused_by[i] if report.caused_by else ())
                     for i, f in enumerate(report.findings)],
        "skipped": [{"check": s.check, "reason": s.reason} for s in report.results.skipped],
    }


def render(report: TriageReport) -> str:
    """JSON text, one object, newline-terminated."""
    return json.dumps(report_to_json(report), indent=2, default=str) + "\n"
