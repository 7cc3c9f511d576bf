"""``pgcrisis cache ... --format json``: the tree, the check and the plan as JSON documents.

Renderers only: each takes the typed result of :mod:`pgcrisis.cache.service` and returns
the text to print. ``unavailable`` lists the duration sources the catalogue could not read,
with the reason (a missing privilege is said, never an empty answer).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from pgcrisis.cache.catalog import CacheCatalog
from pgcrisis.cache.service import CheckRun, PlanRun


def _unavailable(unavailable: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"source": source, "reason": reason} for source, reason in unavailable.items()]


def tree(cat: CacheCatalog) -> str:
    """``cache tree``: each view's level, bases (and the plain views between), readiness,
    reads and durations; the refresh order; the cycles."""
    g = cat.graph
    levels = g.levels
    doc = {
        "views": [{"name": v.name, "level": levels.get(v.name), "bases": list(g.bases[v.name]),
                   "via": {b: list(g.via.get((v.name, b), ())) for b in g.bases[v.name]},
                   "concurrent_ready": v.concurrent_ready, "reads": v.reads,
                   "refresh_p50_s": round(cat.durations[v.name].p50_s, 3),
                   "refresh_p95_s": round(cat.durations[v.name].p95_s, 3),
                   "duration_source": cat.durations[v.name].source}
                  for v in cat.matviews.views],
        "order": list(g.order()),
        "cycles": [list(c) for c in g.cycles],
        "unavailable": _unavailable(cat.unavailable),
    }
    return json.dumps(doc, indent=2) + "\n"


def check(run: CheckRun) -> str:
    """``cache check``: per-view reports, the findings, skipped checks, unreadable sources."""
    findings = run.results.findings
    doc = {
        "views": [asdict(r) for r in run.reports],
        "findings": [{"code": f.code, "severity": f.severity.value, "title": f.title,
                      "objects": [o.name or o.id or o.pid for o in f.objects],
                      "remedy": list(f.remedy.sql) if f.remedy else []} for f in findings],
        "skipped": [{"code": s.check, "reason": s.reason} for s in run.results.skipped],
        "unavailable": _unavailable(run.catalog.unavailable),
    }
    return json.dumps(doc, indent=2, default=str) + "\n"


def plan(run: PlanRun) -> str:
    """``cache plan``: the plan's figures and slots, and the current schedule's."""
    p, current = run.plan, run.current
    doc: dict[str, Any] = {
        "window": run.window.label, "window_s": p.window_s, "lanes": p.lanes,
        "lower_bound": p.lower_bound, "peak": p.peak, "violations": p.violations,
        "makespan_s": round(p.makespan_s, 1), "fits": p.fits, "seed": p.seed,
        "stuck": list(p.stuck),
        "slots": [{"view": s.view, "lane": s.lane + 1, "start_s": round(s.start_s, 1),
                   "end_s": round(s.end_s, 1), "bases": list(s.bases)} for s in p.slots],
        "current": None if current is None else {"peak": current.peak,
                                                  "violations": current.violations},
    }
    return json.dumps(doc, indent=2) + "\n"
