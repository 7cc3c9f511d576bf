"""What each page of the dashboard shows, answered from a store through the same services as
the CLI (``history.service`` for triage of a moment or a window, snapshots for statements,
jobs and views; the timeline's charts are :mod:`.timeline`'s).

Every function takes the store, the recording's name and the range, and returns typed values:
figures, not wording (:mod:`pgcrisis.presentation.web.documents` makes each the JSON its
page fetches). None runs SQL on the watched server (there is none: only the recording is
read). A range with no data gives empty charts and tables, not an error.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pgcrisis.history.service import triage_at, triage_window
from pgcrisis.judge import TriageReport
from pgcrisis.model.jobs import CronJob, JobRuns
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.serve.reduce import Reduced, columns, reduce
from pgcrisis.serve.timeline import width_of
from pgcrisis.store import LogErrorCount, LogSlowCount, Store, Writing, from_us, to_us
from pgcrisis.when import local_zone

#: the most of a window the cached-views page walks sample by sample (refresh durations)
VIEWS_SPAN = timedelta(hours=6)
#: how the errors page groups the log's errors (and what it filters them by)
ERROR_GROUPINGS = ("sqlstate", "statement", "tag", "application", "role", "database")


@dataclass(frozen=True, slots=True)
class Recording:
    """One recording of the store, the first and last moments it covers, and whether a
    recorder writes it now (as far as the store can tell)."""

    name: str
    coverage: tuple[datetime, datetime] | None
    writing: Writing


def recordings(store: Store) -> list[Recording]:
    """The store's recordings with what each covers and whether it is being written."""
    return [Recording(name, store.coverage(name), store.writing(name))
            for name in store.names()]


def moment(store: Store, name: str, when: datetime,
           within: timedelta | None = None) -> TriageReport:
    """Triage of one moment: the report ``triage --at`` makes.

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
    return triage_at(store, name, when)


def window(store: Store, name: str, start: datetime, end: datetime) -> TriageReport:
    """Triage of a window: the report ``triage --from --to`` makes."""
    return triage_window(store, name, start, end)


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


@dataclass(frozen=True, slots=True)
class StatementUse:
    """One statement over a window: its calls and execution time, the rate and mean, and
    the same over the previous period of the same length (``None``: not seen then)."""

    queryid: int
    query: str
    calls: int
    total_ms: float
    calls_per_s: float
    mean_ms: float | None
    prev_calls_per_s: float | None
    prev_mean_ms: float | None


def statements(store: Store, name: str, start: datetime, end: datetime,
               top: int = 25) -> list[StatementUse]:
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
        rows.append(StatementUse(
            qid, query, calls, ms, calls / span, ms / calls if calls else None,
            prev[1] / span if prev else None,
            prev[2] / prev[1] if prev and prev[1] else None))
    return rows


@dataclass(frozen=True, slots=True)
class JobUse:
    """A pg_cron job as the recording saw it at a window's end, its runs (``None``: none
    recorded) and how many of them fell in the window."""

    job: CronJob
    runs: JobRuns | None
    runs_in_window: int


def jobs(store: Store, name: str, start: datetime, end: datetime) -> list[JobUse]:
    """pg_cron's jobs as the recording saw them at the window's end: runs in the window,
    durations, failures, and runs that did nothing (succeeded, zero rows)."""
    then, now = _at(store, name, start), _at(store, name, end)
    if now is None:
        return []
    before = {r.jobid: r for r in then.cron.runs} if then is not None else {}
    runs = {r.jobid: r for r in now.cron.runs}
    out = []
    for job in now.cron.jobs:
        r, b = runs.get(job.jobid), before.get(job.jobid)
        out.append(JobUse(job, r, max(0, r.runs - b.runs) if r and b else (r.runs if r else 0)))
    return out


@dataclass(frozen=True, slots=True)
class Refresh:
    """One refresh seen running: its session, when it began, the longest it was seen
    running (s)."""

    pid: int
    started: datetime
    seconds: float


@dataclass(frozen=True, slots=True)
class ViewNode:
    """A relation of the cached views' tree: ``kind`` as pg_class says (``m`` a
    materialized view), ``populated`` for a materialized view the recording read (else
    ``None``), and the refreshes seen of it."""

    name: str
    kind: str
    populated: bool | None
    refreshes: tuple[Refresh, ...]


@dataclass(frozen=True, slots=True)
class Views:
    """The cached views' tree (nodes by name, edges: view, what it reads), the refreshes
    seen since ``walked_from``, and refreshes per local day and hour over the recording."""

    walked_from: datetime
    nodes: list[ViewNode]
    edges: list[tuple[str, str]]
    heatmap: list[tuple[date, list[int]]]


_REFRESH = re.compile(r"refresh\s+materialized\s+view\s+(?:concurrently\s+)?([^\s;]+)", re.I)


def _refreshes(store: Store, name: str, start: datetime, end: datetime
               ) -> list[tuple[str, Refresh]]:
    """Each refresh running in the snapshots of ``[start, end)`` once, by when it began:
    the view it refreshes, and the run."""
    # (pid, view, began) -> [first seen, longest running]
    seen: dict[tuple[int, str, int], list[Any]] = {}
    for snap in store.snapshots(name, start, end):
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
    return [(view, Refresh(pid, datetime.fromtimestamp(started, UTC), longest))
            for (pid, view, started), (_, longest) in sorted(seen.items(),
                                                              key=lambda kv: kv[0][2])]


def _heatmap(store: Store, name: str) -> list[tuple[date, list[int]]]:
    """Refresh-minutes per local day and hour over the whole recording (each minute counts
    the refreshes running at its peak)."""
    cover = store.coverage(name)
    heat: dict[date, list[int]] = defaultdict(lambda: [0] * 24)
    zone = local_zone()
    if cover is not None:
        for minute in store.series(name, cover[0], cover[1]):
            if minute.refreshing:
                local = from_us(minute.t).astimezone(zone)
                heat[local.date()][local.hour] += minute.refreshing
    return [(day, heat[day]) for day in sorted(heat)]


def views(store: Store, name: str, start: datetime, end: datetime) -> Views:
    """Cached views: the dependency tree (at the window's end), each refresh seen in the
    window (its last :data:`VIEWS_SPAN`) with how long it ran, and a heatmap of refreshes by
    day and hour over the whole recording."""
    now = _at(store, name, end)
    nodes: dict[str, tuple[str, bool | None, list[Refresh]]] = {}
    edges = []
    if now is not None:
        for v in now.matviews.views:
            nodes[v.name] = ("m", v.populated, [])
        for edge in now.matviews.edges:
            for n, kind in ((edge.view, edge.view_kind), (edge.reads, edge.reads_kind)):
                nodes.setdefault(n, (kind, None, []))
            edges.append((edge.view, edge.reads))
    walk_from = max(start, end - VIEWS_SPAN)
    for view, run in _refreshes(store, name, walk_from, end):
        node = nodes.get(view) or next((n for k, n in nodes.items()
                                        if k.split(".")[-1] == view.split(".")[-1]), None)
        if node is None:
            node = nodes.setdefault(view, ("m", None, []))
        node[2].append(run)
    return Views(walk_from, [ViewNode(n, kind, populated, tuple(runs))
                             for n, (kind, populated, runs) in sorted(nodes.items())],
                 edges, _heatmap(store, name))


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    """Errors of one group: the first row counted in it (its key, severity and SQLSTATE),
    how many, and the latest message."""

    first: LogErrorCount
    count: int
    sample: str


@dataclass(frozen=True, slots=True)
class Errors:
    """Errors counted from the server's log over a window: the total, the count per tag
    (``""``: untagged) reduced to ``width`` columns, and the groups of each of
    :data:`ERROR_GROUPINGS`, most errors first."""

    total: int
    width: int
    columns: list[int]
    per_tag: list[tuple[str, Reduced]]
    groups: dict[str, list[ErrorGroup]]


def _group_key(kind: str, row: LogErrorCount) -> tuple[object, ...]:
    if kind == "statement":
        return (row.statement, row.queryid or None)
    return (getattr(row, kind),)


def kept(row: LogErrorCount | LogSlowCount, filters: Mapping[str, str]) -> bool:
    """Whether a row of the log is one the page's filters keep (each names a grouping of
    :data:`ERROR_GROUPINGS` and the value it must have; ``""`` for none, as an untagged
    statement)."""
    return all(str(getattr(row, kind, "")) == value for kind, value in filters.items())


def errors(store: Store, name: str, start: datetime, end: datetime, width: int,
           filters: Mapping[str, str] | None = None) -> Errors:
    """Errors counted from the server's log: per SQLSTATE, statement, tag, application, role
    and database, with a sample message each, and per tag over time (``width`` columns);
    only those ``filters`` keep (:func:`kept`)."""
    groups: dict[str, dict[tuple[object, ...], ErrorGroup]] = {
        kind: {} for kind in ERROR_GROUPINGS}
    per_tag: dict[str, Counter[int]] = defaultdict(Counter)
    total = 0
    for row in store.log_errors(name, start, end):
        if filters and not kept(row, filters):
            continue
        total += row.count
        per_tag[row.tag][row.t] += row.count
        for kind, found in groups.items():
            key = _group_key(kind, row)
            g = found.get(key)
            found[key] = ErrorGroup(row, row.count, row.sample) if g is None else \
                ErrorGroup(g.first, g.count + row.count, row.sample)
    width = width_of(width)
    s, e = to_us(start), to_us(end)
    series = []
    for tag, counts in per_tag.items():
        ts = sorted(counts)
        series.append((tag, reduce(ts, [counts[t] for t in ts], s, e, width)))
    return Errors(total, width, columns(s, e, width), series,
                  {kind: sorted(found.values(), key=lambda g: -g.count)
                   for kind, found in groups.items()})
