"""What each page of the dashboard shows, answered from a store: JSON documents built through
the same services as the CLI (``history.service`` for triage of a moment or a window,
``store.series``, the stored series for the charts, snapshots for statements, jobs and views).

Every function takes the store, the recording's name and the range; none runs SQL on the
watched server (there is none: only the recording is read). A range with no data gives empty
charts and tables, not an error.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from pgcrisis.history.service import triage_at, triage_window
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.presentation.triage_json import report_to_json
from pgcrisis.serve.reduce import columns, reduce
from pgcrisis.store import FIGURES, Store, from_us, to_us
from pgcrisis.store.series import Bucket, buckets_of
from pgcrisis.when import local_zone, shown

JSON = dict[str, Any]
#: the widest chart the server reduces to (a request asking for more gets this many columns)
MAX_WIDTH = 4000
#: a range this short is drawn from the samples themselves, a bucket a second (the stored
#: series has a row a minute)
FINE_SPAN = timedelta(minutes=15)
#: the most of a window the cached-views page walks sample by sample (refresh durations)
VIEWS_SPAN = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a chart: its key, label, and how a minute's figure is read."""

    key: str
    label: str


#: the timeline's charts: key, title, unit, lines
CHARTS: tuple[tuple[str, str, str, tuple[Line, ...]], ...] = (
    ("sessions", "Sessions by state", "", (Line("active", "active"),
                                           Line("idle_tx", "idle in transaction"),
                                           Line("idle", "idle"))),
    ("waiting", "Lock waiters", "", (Line("waiting", "waiting on a lock"),)),
    ("refreshing", "Refreshes running", "", (Line("refreshing", "refreshes"),)),
    ("job_runs", "Job runs", "/min", (Line("job_runs", "runs"),)),
    ("statement_ms", "Statement time", "ms/min", (Line("statement_ms", "execution time"),)),
    ("tps", "Transactions", "/s", (Line("tps", "transactions/s"),)),
    ("errors", "Errors (server log)", "/min", (Line("errors", "errors"),)),
)


def iso(moment: datetime) -> str:
    """``2026-11-26T08:14:03.250Z``: how the JSON says a moment (UTC, milliseconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def recordings(store: Store) -> JSON:
    """The store's recordings with what each covers."""
    out = []
    for name in store.names():
        cover = store.coverage(name)
        out.append({"name": name, "from": iso(cover[0]) if cover else None,
                    "to": iso(cover[1]) if cover else None})
    return {"recordings": out, "zone": shown(datetime.now(UTC)).rsplit(" ", 1)[1]}


def _figures(buckets: list[Bucket], key: str) -> Any:
    """One figure of every bucket, as an array."""
    return np.array([getattr(b, key) for b in buckets], dtype=np.float64)


def _errors_per_minute(store: Store, name: str, start: datetime, end: datetime
                       ) -> dict[int, int]:
    counts: Counter[int] = Counter()
    for row in store.log_errors(name, start, end):
        counts[row.t] += row.count
    return dict(counts)


def timeline(store: Store, name: str, start: datetime, end: datetime, width: int) -> JSON:
    """Every chart of the timeline over ``[start, end)``, reduced to ``width`` columns (min
    and max of each); a column with no sample is ``null``."""
    width = max(1, min(width, MAX_WIDTH))
    s, e = to_us(start), to_us(end)
    step_us = 1_000_000 if end - start <= FINE_SPAN else 60_000_000
    stored = store.series_figures(name, start, end) if step_us == 60_000_000 else None
    if stored is not None:  # the per-minute series as columns: no object per minute
        times: Any = np.array(stored.t, dtype=np.int64)
        figures: dict[str, Any] = {key: np.array(getattr(stored, key), dtype=np.float64)
                                   for key in FIGURES}
        minutes = len(stored.t)
    else:
        buckets = (buckets_of(store.snapshots(name, start, end), step_us=step_us)
                   if step_us < 60_000_000 else store.series(name, start, end))
        times = [b.t for b in buckets]
        figures = {key: _figures(buckets, key) for key in FIGURES}
        minutes = len(buckets)
    with np.errstate(divide="ignore", invalid="ignore"):
        seconds = figures["seconds"]
        figures["tps"] = np.where(seconds > 0, figures["xacts"] / np.where(seconds > 0,
                                                                          seconds, 1), np.nan)
    errors = _errors_per_minute(store, name, start, end)
    error_times = sorted(errors)
    charts = []
    for key, title, unit, lines in CHARTS:
        out_lines = []
        for line in lines:
            if line.key == "errors":
                r = reduce(error_times, [errors[t] for t in error_times], s, e, width)
            else:
                r = reduce(times, figures[line.key], s, e, width)
            out_lines.append({"key": line.key, "label": line.label, "lo": r.lo, "hi": r.hi})
        charts.append({"key": key, "title": title, "unit": unit, "lines": out_lines})
    cover = store.coverage(name)
    return {"name": name, "from": iso(start), "to": iso(end), "width": width,
            "columns": [c // 1000 for c in columns(s, e, width)],
            "coverage": {"from": iso(cover[0]), "to": iso(cover[1])} if cover else None,
            "minutes": minutes, "step_ms": step_us // 1000, "charts": charts}


def moment(store: Store, name: str, when: datetime, within: timedelta | None = None) -> JSON:
    """Triage of one moment: the report ``triage --at`` makes, as its JSON.

    With ``within`` (a click on a chart stands for a pixel column, ``[when, when + within]``),
    a sample inside the column is judged: the first in which a warning or critical finding
    held, else its first. The sample before the column (what ``--at`` alone would take) may
    predate the spike that was clicked."""
    if within is not None:
        after = when - timedelta(microseconds=1)
        for flagged in (True, False):
            found = store.frame_near(name, after, forward=True, flagged=flagged)
            if found is not None and found <= when + within:
                when = found
                break
    return report_to_json(triage_at(store, name, when))


def window(store: Store, name: str, start: datetime, end: datetime) -> JSON:
    """Triage of a window: the report ``triage --from --to`` makes, as its JSON."""
    return report_to_json(triage_window(store, name, start, end))


def _at(store: Store, name: str, when: datetime) -> Snapshot | None:
    """The snapshot at ``when``, or the recording's first when ``when`` is before it."""
    cover = store.coverage(name)
    if cover is None:
        return None
    return store.snapshot_at(name, max(when, cover[0]))


def _statement_deltas(a: Snapshot | None, b: Snapshot | None) -> dict[int, tuple[str, int, float]]:
    """Per queryid: its text, and the calls and execution time between two snapshots (a
    counter that went down was reset: its reading at ``b`` is the growth)."""
    if b is None:
        return {}
    before = {s.queryid: s for s in a.statements.rows} if a is not None else {}
    out: dict[int, tuple[str, int, float]] = {}
    for s in b.statements.rows:
        old = before.get(s.queryid)
        calls, ms = s.calls, s.total_exec_ms
        if old is not None and old.calls <= s.calls:
            calls, ms = s.calls - old.calls, max(0.0, s.total_exec_ms - old.total_exec_ms)
        if calls or ms:
            out[s.queryid] = (s.query, calls, ms)
    return out


def statements(store: Store, name: str, start: datetime, end: datetime, top: int = 25) -> JSON:
    """The window's statements by execution time, with calls/s and the mean against the
    previous period of the same length."""
    span = max((end - start).total_seconds(), 1.0)
    then, now = _at(store, name, start), _at(store, name, end)
    if now is not None and then is not None and now.taken_at <= then.taken_at:
        then = None
    current = _statement_deltas(then, now) if now is not None and then is not None else {}
    previous = _statement_deltas(_at(store, name, start - (end - start)), then)
    rows = []
    for qid, (query, calls, ms) in sorted(current.items(), key=lambda kv: -kv[1][2])[:top]:
        prev = previous.get(qid)
        rows.append({
            "queryid": str(qid), "query": query, "calls": calls, "total_ms": round(ms, 3),
            "calls_per_s": round(calls / span, 3),
            "mean_ms": round(ms / calls, 3) if calls else None,
            "prev_calls_per_s": round(prev[1] / span, 3) if prev else None,
            "prev_mean_ms": round(prev[2] / prev[1], 3) if prev and prev[1] else None,
        })
    return {"from": iso(start), "to": iso(end), "statements": rows}


def jobs(store: Store, name: str, start: datetime, end: datetime) -> JSON:
    """pg_cron's jobs as the recording saw them at the window's end: runs in the window,
    durations, failures, and runs that did nothing (succeeded, zero rows)."""
    then, now = _at(store, name, start), _at(store, name, end)
    if now is None:
        return {"from": iso(start), "to": iso(end), "jobs": []}
    before = {r.jobid: r for r in then.cron.runs} if then is not None else {}
    runs = {r.jobid: r for r in now.cron.runs}
    out = []
    for job in now.cron.jobs:
        r, b = runs.get(job.jobid), before.get(job.jobid)
        out.append({
            "jobid": job.jobid, "name": job.jobname or f"job {job.jobid}",
            "schedule": job.schedule, "command": job.command, "active": job.active,
            "runs": r.runs if r else 0,
            "runs_in_window": max(0, r.runs - b.runs) if r and b else (r.runs if r else 0),
            "failed": r.failed if r else 0, "succeeded": r.succeeded if r else 0,
            "did_nothing": r.zero_row_runs if r else 0,
            "mean_s": r.mean_duration_s if r else None, "max_s": r.max_duration_s if r else None,
            "last_status": r.last_status if r else None, "last_error": r.last_error if r else None,
        })
    return {"from": iso(start), "to": iso(end), "jobs": out}


_REFRESH = re.compile(r"refresh\s+materialized\s+view\s+(?:concurrently\s+)?([^\s;]+)", re.I)


def views(store: Store, name: str, start: datetime, end: datetime) -> JSON:
    """Cached views: the dependency tree (at the window's end), each refresh seen in the
    window with how long it ran, and a heatmap of refreshes by day and hour over the whole
    recording (refresh-minutes: each minute counts the refreshes running at its peak)."""
    now = _at(store, name, end)
    nodes: dict[str, JSON] = {}
    edges = []
    if now is not None:
        for v in now.matviews.views:
            nodes[v.name] = {"name": v.name, "kind": "m", "populated": v.populated,
                             "refreshes": []}
        for edge in now.matviews.edges:
            for n, kind in ((edge.view, edge.view_kind), (edge.reads, edge.reads_kind)):
                nodes.setdefault(n, {"name": n, "kind": kind, "refreshes": []})
            edges.append({"view": edge.view, "reads": edge.reads})
    # refreshes: (pid, view) -> [first seen, longest running]
    seen: dict[tuple[int, str, int], list[Any]] = {}
    walk_from = max(start, end - VIEWS_SPAN)
    for snap in store.snapshots(name, walk_from, end):
        at = snap.server_time or snap.taken_at
        for b in snap.activity:
            if b.state != "active":
                continue
            m = _REFRESH.search(b.query)
            if m is None:
                continue
            view = m.group(1).replace('"', "")
            age = b.query_age_s or 0.0
            began = round(at.timestamp() - age)
            # the same run read again (its start, computed from an age, may move a second)
            key = next((k for k in seen if k[:2] == (b.pid, view) and abs(k[2] - began) <= 2),
                       (b.pid, view, began))
            entry = seen.setdefault(key, [at, age])
            entry[1] = max(entry[1], age)
    for (pid, view, started), (_, longest) in sorted(seen.items(), key=lambda kv: kv[0][2]):
        node = nodes.get(view) or next((n for k, n in nodes.items()
                                        if k.split(".")[-1] == view.split(".")[-1]), None)
        if node is None:
            node = nodes.setdefault(view, {"name": view, "kind": "m", "refreshes": []})
        node["refreshes"].append({"pid": pid, "started": iso(datetime.fromtimestamp(
            started, UTC)), "seconds": round(longest, 1)})
    cover = store.coverage(name)
    heat: dict[str, list[int]] = defaultdict(lambda: [0] * 24)
    zone = local_zone()
    if cover is not None:
        for minute in store.series(name, cover[0], cover[1]):
            if minute.refreshing:
                local = from_us(minute.t).astimezone(zone)
                heat[local.strftime("%Y-%m-%d")][local.hour] += minute.refreshing
    return {"from": iso(start), "to": iso(end), "walked_from": iso(walk_from),
            "nodes": sorted(nodes.values(), key=lambda n: n["name"]), "edges": edges,
            "heatmap": {"zone": shown(datetime.now(UTC)).rsplit(" ", 1)[1],
                        "days": sorted(heat), "hours": [heat[d] for d in sorted(heat)]}}


def errors(store: Store, name: str, start: datetime, end: datetime, width: int) -> JSON:
    """Errors counted from the server's log: per SQLSTATE, statement, tag and application,
    with a sample message each, and per tag over time (``width`` columns)."""
    rows = store.log_errors(name, start, end)
    groups: dict[str, dict[tuple[str, ...], JSON]] = {
        "sqlstate": {}, "statement": {}, "tag": {}, "application": {}}
    per_tag: dict[str, Counter[int]] = defaultdict(Counter)
    total = 0
    for row in rows:
        n = row.count
        total += n
        per_tag[row.tag or "(no tag)"][row.t] += n
        keys = {"sqlstate": (row.sqlstate,),
                "statement": (row.statement, str(row.queryid or "")),
                "tag": (row.tag or "(no tag)",), "application": (row.application or "(none)",)}
        for kind, key in keys.items():
            g = groups[kind].setdefault(key, {"key": list(key), "count": 0,
                                              "severity": row.severity, "sample": row.sample,
                                              "sqlstate": row.sqlstate})
            g["count"] += n
            g["sample"] = row.sample
    width = max(1, min(width, MAX_WIDTH))
    s, e = to_us(start), to_us(end)
    series = []
    for tag, counts in sorted(per_tag.items()):
        ts = sorted(counts)
        r = reduce(ts, [counts[t] for t in ts], s, e, width)
        series.append({"key": tag, "label": tag, "lo": r.lo, "hi": r.hi})
    return {"from": iso(start), "to": iso(end), "total": total,
            "columns": [c // 1000 for c in columns(s, e, width)], "series": series,
            **{kind: sorted(g.values(), key=lambda x: -x["count"])
               for kind, g in groups.items()}}
