"""The JSON documents the dashboard's pages fetch (``/api/*``), made from what
:mod:`pgcrisis.serve.data` answers: the charts' titles, labels and units, how a moment and
the zone are written, figures rounded for display, the words for what has no value.

A moment is ``2026-11-26T08:14:03.250Z`` (UTC, milliseconds), a column's start milliseconds
since the epoch, a queryid a string (JavaScript's numbers cannot hold every 64-bit one).
Triage of a moment or a window is triage's own JSON
(:func:`pgcrisis.presentation.triage_json.report_to_json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pgcrisis.model.waits import SHOWN_CLASSES
from pgcrisis.serve.data import ErrorGroup, Errors, JobUse, Recording, StatementUse, Views
from pgcrisis.serve.reduce import Reduced
from pgcrisis.serve.slow import Slow, SlowGroup
from pgcrisis.serve.timeline import Load, Timeline
from pgcrisis.store import Writing
from pgcrisis.when import shown

JSON = dict[str, Any]
#: how the errors page names a statement without a tag, and a session without an application
NO_TAG = "(no tag)"
NO_APPLICATION = "(none)"
#: how the errors page names a role or database the log did not name
NO_NAME = "(not in the log)"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a chart: the figure it draws (:func:`pgcrisis.serve.data.timeline`'s
    key) and its label."""

    key: str
    label: str


#: the timeline's line charts: key, title, unit, lines (the load's stacked chart comes first)
CHARTS: tuple[tuple[str, str, str, tuple[Line, ...]], ...] = (
    ("sessions", "Sessions by state", "", (Line("active", "active"),
                                           Line("idle_tx", "idle in transaction"),
                                           Line("idle", "idle"))),
    ("waiting", "Lock waiters", "", (Line("waiting", "waiting on a lock"),)),
    ("refreshing", "Refreshes running", "", (Line("refreshing", "refreshes"),)),
    ("job_runs", "Job runs", "/min", (Line("job_runs", "runs"),)),
    ("busy", "Statement time", "busy sessions",
     (Line("busy", "seconds of statement time per second, over the minute read"),)),
    ("tps", "Transactions", "/s", (Line("tps", "transactions/s"),)),
    ("errors", "Errors (server log)", "/min", (Line("errors", "errors"),)),
)
#: the figures the timeline's charts draw, in their order
CHART_KEYS = tuple(line.key for *_, lines in CHARTS for line in lines)
#: the stacked chart of the load: key, title, unit
LOAD_CHART = ("load", "Active sessions by wait class", "sessions")
#: how the load chart names each class of :data:`~pgcrisis.model.waits.SHOWN_CLASSES`
CLASS_LABELS = {"CPU": "CPU", "IO": "I/O", "Lock": "Lock", "LWLock": "LWLock", "IPC": "IPC",
                "Client": "Client", "Other": "other waits"}
#: what the load chart says when the recording has no load profile in the range
NO_LOAD = ("The load by wait class is not in this recording here: it was recorded by an "
           "older pgcrisis, which did not keep it.")


def iso(moment: datetime) -> str:
    """``2026-11-26T08:14:03.250Z``: how the JSON says a moment (UTC, milliseconds).

    >>> iso(datetime(2026, 11, 26, 8, 14, 3, 250_400, tzinfo=UTC))
    '2026-11-26T08:14:03.250Z'
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def zone() -> str:
    """The abbreviation of the zone local times are shown in (``CET``)."""
    return shown(datetime.now(UTC)).rsplit(" ", 1)[1]


def _range(start: datetime, end: datetime) -> JSON:
    return {"from": iso(start), "to": iso(end)}


def _ms(columns: list[int]) -> list[int]:
    """Columns' starts (µs since the epoch) as the browser's times (ms)."""
    return [c // 1000 for c in columns]


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _line(key: str, label: str, r: Reduced) -> JSON:
    return {"key": key, "label": label, "lo": r.lo, "hi": r.hi}


def writing(w: Writing, now: datetime) -> JSON:
    """Whether a recorder writes the recording: ``live`` only while it does (its lock held,
    or where the store cannot tell, its frames still coming); ``stale`` when none came for
    longer than its interval makes it; the recorder's clock at its last frame."""
    return {"live": w.live(now), "locked": w.locked, "stale": w.stale(now),
            "last_sample": iso(w.last_frames[-1]) if w.last_frames else None,
            "interval_s": None if w.interval_s is None else round(w.interval_s, 3)}


def recordings(found: list[Recording], now: datetime | None = None) -> JSON:
    """``/api/recordings``: the store's recordings with what each covers, whether a recorder
    writes it now, and the zone."""
    at = now or datetime.now(UTC)
    return {"recordings": [{"name": r.name, "from": iso(r.coverage[0]) if r.coverage else None,
                            "to": iso(r.coverage[1]) if r.coverage else None,
                            "writing": writing(r.writing, at)}
                           for r in found], "zone": zone()}


def load_chart(load: Load, minutes: int) -> JSON:
    """The stacked chart of the load: each class's sessions per column, the CPU count per
    column, and a note where there is no load (or no CPU count) to draw."""
    key, title, unit = LOAD_CHART
    cpus = [c for c in load.cpus if c is not None]
    note = None
    if minutes and not load.recorded:
        note = NO_LOAD
    elif load.recorded and not cpus:
        note = ("No CPU line: the CPU count is not known"
                + (f" ({load.cpus_how})" if load.cpus_how else
                   " (give pgcrisis record --cpus N, or [server] cpus = N in pgcrisis.toml)"))
    return {"key": key, "kind": "stack", "title": title, "unit": unit, "note": note,
            "classes": [{"key": c, "label": CLASS_LABELS[c], "values": load.classes[c]}
                        for c in SHOWN_CLASSES],
            "cpus": load.cpus if cpus else None,
            "cpus_label": (f"{int(max(cpus))} CPUs" if len(set(cpus)) == 1 else
                           f"{int(min(cpus))}-{int(max(cpus))} CPUs") if cpus else None}


def timeline(name: str, start: datetime, end: datetime, t: Timeline) -> JSON:
    """``/api/timeline``: the load's stacked chart, then every chart of :data:`CHARTS`
    (``t`` holds :data:`CHART_KEYS`)."""
    charts = [load_chart(t.load, t.minutes)] + [
        {"key": key, "kind": "lines", "title": title, "unit": unit,
         "lines": [_line(line.key, line.label, t.lines[line.key]) for line in lines]}
        for key, title, unit, lines in CHARTS]
    return {"name": name, **_range(start, end), "width": t.width, "columns": _ms(t.columns),
            "coverage": ({"from": iso(t.coverage[0]), "to": iso(t.coverage[1])}
                         if t.coverage else None),
            "minutes": t.minutes, "step_ms": t.step_us // 1000, "charts": charts}


def statements(start: datetime, end: datetime, rows: list[StatementUse]) -> JSON:
    """``/api/statements``: the window's statements by execution time."""
    return {**_range(start, end), "statements": [{
        "queryid": str(s.queryid), "query": s.query, "calls": s.calls,
        "total_ms": round(s.total_ms, 3), "calls_per_s": round(s.calls_per_s, 3),
        "mean_ms": _round(s.mean_ms), "prev_calls_per_s": _round(s.prev_calls_per_s),
        "prev_mean_ms": _round(s.prev_mean_ms),
    } for s in rows]}


def jobs(start: datetime, end: datetime, rows: list[JobUse]) -> JSON:
    """``/api/jobs``: pg_cron's jobs (a job without a name is ``job <jobid>``)."""
    out = []
    for use in rows:
        job, r = use.job, use.runs
        out.append({
            "jobid": job.jobid, "name": job.jobname or f"job {job.jobid}",
            "schedule": job.schedule, "command": job.command, "active": job.active,
            "runs": r.runs if r else 0, "runs_in_window": use.runs_in_window,
            "failed": r.failed if r else 0, "succeeded": r.succeeded if r else 0,
            "did_nothing": r.zero_row_runs if r else 0,
            "mean_s": r.mean_duration_s if r else None, "max_s": r.max_duration_s if r else None,
            "last_status": r.last_status if r else None, "last_error": r.last_error if r else None,
        })
    return {**_range(start, end), "jobs": out}


def views(start: datetime, end: datetime, v: Views) -> JSON:
    """``/api/views``: the tree, the refreshes seen (seconds to a tenth) and the heatmap
    (days in the local zone)."""
    nodes = []
    for n in v.nodes:
        node: JSON = {"name": n.name, "kind": n.kind}
        if n.populated is not None:
            node["populated"] = n.populated
        node["refreshes"] = [{"pid": r.pid, "started": iso(r.started),
                              "seconds": round(r.seconds, 1)} for r in n.refreshes]
        nodes.append(node)
    return {**_range(start, end), "walked_from": iso(v.walked_from), "nodes": nodes,
            "edges": [{"view": view, "reads": reads} for view, reads in v.edges],
            "heatmap": {"zone": zone(), "days": [day.isoformat() for day, _ in v.heatmap],
                        "hours": [hours for _, hours in v.heatmap]}}


def _group_key(kind: str, g: ErrorGroup) -> list[str]:
    """How the errors page names a group of ``kind``."""
    row = g.first
    if kind == "statement":
        return [row.statement, str(row.queryid or "")]
    if kind == "tag":
        return [row.tag or NO_TAG]
    if kind == "application":
        return [row.application or NO_APPLICATION]
    if kind in ("role", "database"):
        return [getattr(row, kind) or NO_NAME]
    return [row.sqlstate]


def _value(kind: str, g: ErrorGroup) -> str:
    """The value the page filters a group of ``kind`` by (``/api/errors?<kind>=<value>``)."""
    return str(getattr(g.first, kind))


def errors(start: datetime, end: datetime, e: Errors) -> JSON:
    """``/api/errors``: the total, the series per tag (by its name) and each grouping."""
    series = sorted(((tag or NO_TAG, r) for tag, r in e.per_tag), key=lambda tr: tr[0])
    return {**_range(start, end), "total": e.total, "columns": _ms(e.columns),
            "series": [_line(label, label, r) for label, r in series],
            **{kind: [{"key": _group_key(kind, g), "value": _value(kind, g), "count": g.count,
                       "severity": g.first.severity, "sample": g.sample,
                       "sqlstate": g.first.sqlstate} for g in groups]
               for kind, groups in e.groups.items()}}


def _slow_group(g: SlowGroup) -> JSON:
    return {"statement": g.statement, "queryid": str(g.queryid or ""), "tag": g.tag,
            "label": g.tag or NO_TAG, "count": g.count, "total_ms": round(g.total_ms, 3),
            "p95_ms": _round(g.p95_ms), "max_ms": round(g.max_ms, 3), "plan": g.plan}


def slow(start: datetime, end: datetime, s: Slow) -> JSON:
    """``/api/slow``: the count and time of the slow statements, their time per minute per
    view (ms), and the groups by statement and by view, most time first."""
    return {**_range(start, end), "count": s.count, "total_ms": round(s.total_ms, 3),
            "columns": _ms(s.columns),
            "series": [_line(tag or NO_TAG, tag or NO_TAG, r) for tag, r in s.per_tag],
            "statements": [_slow_group(g) for g in s.statements],
            "views": [_slow_group(g) for g in s.views]}
