"""Judging a window of a recording: every finding with when it started, ended and peaked, and
the checks only a history can make (pure: snapshots in, findings out).

The same checks as triage run on the snapshot at each frame (at most ``max_evaluations`` of
them, evenly spread: a 25-minute window at 1 s is 1,500 frames); a finding is the same finding
across frames when it is about the same things: its code and its first two objects, the
sessions it names left out where it names anything else, so that a finding about a table,
a statement, a client or a job is one finding across the pids that came and went (the pids
are listed in its evidence). The history checks:

- ``stall``: many sessions waiting on locks or I/O at once, its stretches of frames grouped
  by what they waited on (:mod:`.stalls`);
- ``refresh-wave``: materialized-view refreshes observed running together, whatever started
  them (pg_cron, the application, a person);
- ``connection-spike``: one client's connections far above its usual count in the window;
- ``statement-regression``: a statement's calls/s or mean time up against the same window of
  the day before (needs that day's recording);
- ``schema-change``: what changed (settings, indexes created or dropped, DDL seen running).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from pgcrisis import shorten
from pgcrisis.checks.grouping import group
from pgcrisis.checks.registry import run_checks
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.history.seen import Seen, WindowFinding, moment, stretches
from pgcrisis.history.stalls import stalls
from pgcrisis.model.activity import Backend
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity, rank
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.model.statements import Statement
from pgcrisis.store.series import refreshes
from pgcrisis.when import shown

#: codes of the checks only a history can make
HISTORY_CODES = ("stall", "refresh-wave", "connection-spike", "statement-regression",
                 "schema-change")
#: refreshes running together that make a wave
WAVE_MIN_REFRESHES = 3
#: a client's connections at least this many times its median, and this many more
SPIKE_FACTOR = 2.0
SPIKE_MIN_EXTRA = 20
#: a statement regressed when its mean (or calls/s) is this many times the day before's
REGRESSION_FACTOR = 2.0
REGRESSION_MIN_MEAN_MS = 5.0
_DDL = ("create ", "alter ", "drop ", "truncate ", "reindex ", "cluster ")


def _identity(finding: Finding) -> tuple[object, ...]:
    """What a finding is about, the same across frames: its code and its first two objects,
    sessions left out where it names anything else (a root blocker, an idle session, the
    pids of the moment are not what a window's finding is about: the relation, statement,
    client or job they were on is)."""
    about = [o for o in finding.objects if o.kind != "backend"] or list(finding.objects)
    objects = tuple((o.kind, o.name, o.pid, o.queryid, o.jobid) for o in about[:2])
    return (finding.code, objects)


def _pid(finding: Finding) -> int | None:
    """The session a finding names first, if it names one first."""
    first = finding.objects[0] if finding.objects else None
    return first.pid if first is not None and first.kind == "backend" else None


def _strength(finding: Finding) -> tuple[int, float]:
    return (-finding.severity.rank, finding.impact)


def evenly(items: Sequence[Snapshot], most: int) -> list[Snapshot]:
    """At most ``most`` of ``items``, evenly spread, always the first and the last."""
    if len(items) <= most:
        return list(items)
    step = (len(items) - 1) / (most - 1)
    return [items[round(i * step)] for i in range(most)]


def findings_over(snapshots: Sequence[Snapshot], thresholds: Thresholds | None = None,
                  max_evaluations: int = 600) -> list[WindowFinding]:
    """The checks' findings at each (spread) frame, merged by what they are about
    (:func:`_identity`) with when they held and the sessions they named; each finding as it
    was at its peak."""
    peak: dict[tuple[object, ...], Finding] = {}
    seen: dict[tuple[object, ...], Seen] = {}
    pids: dict[tuple[object, ...], dict[int, None]] = {}
    for snapshot in evenly(snapshots, max_evaluations):
        at = moment(snapshot)
        for finding in group(run_checks(snapshot, thresholds).findings):
            key = _identity(finding)
            pid = _pid(finding)
            if pid is not None:
                pids.setdefault(key, {})[pid] = None
            before = seen.get(key)
            if before is None:
                peak[key] = finding
                seen[key] = Seen(at, at, at, 1)
                continue
            stronger = _strength(finding) > _strength(peak[key])
            if stronger:
                peak[key] = finding
            seen[key] = Seen(before.started_at, at, at if stronger else before.peak_at,
                             before.frames + (at != before.ended_at))
    return [WindowFinding(peak[k], seen[k], tuple(pids.get(k, ())) if len(pids.get(k, ())) > 1
                          else ()) for k in peak]


# -- history checks ---------------------------------------------------------------------------

def _refreshing(b: Backend) -> bool:
    return b.state == "active" and refreshes(b.query)


def refresh_waves(snapshots: Sequence[Snapshot]) -> list[WindowFinding]:
    """Stretches in which several materialized views were being refreshed at once."""
    counts: list[tuple[datetime, int]] = []
    who: dict[datetime, list[Backend]] = {}
    for snapshot in snapshots:
        at = moment(snapshot)
        running = [b for b in snapshot.activity if _refreshing(b)]
        counts.append((at, len(running)))
        who[at] = running
    found: list[WindowFinding] = []
    for run in stretches(counts, WAVE_MIN_REFRESHES):
        peak_at, peak = max(run, key=lambda item: item[1])
        apps = Counter(b.application_name or "?" for at, _ in run for b in who[at])
        views = sorted({b.query.split()[-1].rstrip(";") for at, _ in run for b in who[at]
                        if b.query.lower().startswith("refresh")})
        finding = Finding(
            "refresh-wave", Severity.WARNING,
            f"{peak} materialized-view refreshes ran at once at {shown(peak_at)}",
            f"Refreshes ran together from {shown(run[0][0])} to {shown(run[-1][0])}, started "
            f"by {', '.join(a for a, _ in apps.most_common(3))}; readers of those views wait "
            "behind plain refreshes, and together they compete for CPU and I/O.",
            tuple(ObjectRef("matview", name=v) for v in views[:10])
            or (ObjectRef.client(apps.most_common(1)[0][0], None),),
            {"peak_refreshes": peak, "views": views, "started_by": dict(apps)},
            Remedy("Spread the refreshes over a quiet window, dependencies first "
                   "(pgcrisis cache plan --window 01:00-05:00)."),
            impact=peak * 1e5)
        found.append(WindowFinding(finding, Seen(run[0][0], run[-1][0], peak_at, len(run))))
    return found


def connection_spikes(snapshots: Sequence[Snapshot]) -> list[WindowFinding]:
    """Clients whose connections rose far above their usual count in the window."""
    series: dict[tuple[str, str | None], list[tuple[datetime, int]]] = {}
    for snapshot in snapshots:
        at = moment(snapshot)
        per: Counter[tuple[str, str | None]] = Counter()
        for b in snapshot.all_sessions():
            if b.is_client:
                per[(b.application_name, b.client_addr)] += b.sessions
        for client in set(per) | set(series):
            series.setdefault(client, []).append((at, per.get(client, 0)))
    found: list[WindowFinding] = []
    for (app, addr), points in series.items():
        usual = statistics.median(n for _, n in points)
        peak_at, peak = max(points, key=lambda item: item[1])
        if peak < SPIKE_FACTOR * usual or peak - usual < SPIKE_MIN_EXTRA:
            continue
        high = [at for at, n in points if n >= SPIKE_FACTOR * max(usual, 1)]
        name = f"{app or '?'}@{addr or 'local'}"
        finding = Finding(
            "connection-spike", Severity.WARNING,
            f"{name} went from {usual:.0f} to {peak} connections at {shown(peak_at)}",
            f"{name} usually held {usual:.0f} connections in the window and reached {peak}: "
            "a retry storm or a pool that grows under load.",
            (ObjectRef.client(app, addr),),
            {"usual": usual, "peak": peak},
            Remedy("Cap the client's pool (or put a pooler in front) and find what made it "
                   "open connections."),
            impact=peak - usual)
        found.append(WindowFinding(finding, Seen(high[0], high[-1], peak_at, len(high))))
    return found


def _rates(snapshots: Sequence[Snapshot]) -> dict[int, tuple[Statement, float, float]]:
    """Per queryid over the window: (statement, calls/s, mean ms) from the first and last
    statement readings (cumulative counters; a counter that went down is skipped)."""
    readings = [s for s in snapshots if s.statements.rows]
    if len(readings) < 2:
        return {}
    first, last = readings[0], readings[-1]
    seconds = max((moment(last) - moment(first)).total_seconds(), 1.0)
    before = {s.queryid: s for s in first.statements.rows}
    out: dict[int, tuple[Statement, float, float]] = {}
    for st in last.statements.rows:
        old = before.get(st.queryid)
        calls = st.calls - (old.calls if old else 0)
        total = st.total_exec_ms - (old.total_exec_ms if old else 0.0)
        if calls <= 0 or total < 0:
            continue
        out[st.queryid] = (st, calls / seconds, total / calls)
    return out


def regressions(window: Sequence[Snapshot], day_before: Sequence[Snapshot],
                ) -> list[WindowFinding]:
    """Statements slower or far more frequent than in the same window the day before."""
    now, then = _rates(window), _rates(day_before)
    found: list[WindowFinding] = []
    start, end = moment(window[0]), moment(window[-1])
    for queryid, (st, rate, mean) in now.items():
        if queryid not in then:
            continue
        _, old_rate, old_mean = then[queryid]
        slower = mean >= REGRESSION_FACTOR * old_mean and mean >= REGRESSION_MIN_MEAN_MS
        busier = rate >= REGRESSION_FACTOR * max(old_rate, 0.01) and rate >= 1.0
        if not (slower or busier):
            continue
        what = (f"mean {old_mean:.1f} → {mean:.1f} ms" if slower else
                f"{old_rate:.1f} → {rate:.1f} calls/s")
        finding = Finding(
            "statement-regression", Severity.WARNING,
            f"{st.label}: {what} against the same window the day before",
            f"In this window the statement ran {rate:.1f} calls/s at {mean:.1f} ms on average; "
            f"the day before, {old_rate:.1f} calls/s at {old_mean:.1f} ms.",
            (ObjectRef("query", name=shorten.cut(st.query, 80, mark=""), queryid=queryid),),
            {"calls_per_s": rate, "mean_ms": mean, "day_before_calls_per_s": old_rate,
             "day_before_mean_ms": old_mean},
            Remedy("Compare the plans (pgcrisis explain --query ... --compare) and look at "
                   "what changed in the window."),
            impact=(mean - old_mean) * rate)
        found.append(WindowFinding(finding, Seen(start, end, end, len(window))))
    return found


def changes(snapshots: Sequence[Snapshot]) -> list[WindowFinding]:
    """Settings changed, indexes created or dropped, DDL seen running, within the window."""
    full = [s for s in snapshots if s.index_defs or s.server.settings]
    if not snapshots:
        return []
    notes: list[str] = []
    objects: list[ObjectRef] = []
    first_at, last_at = moment(snapshots[0]), moment(snapshots[-1])
    if len(full) >= 2:
        a, b = full[0].server.settings, full[-1].server.settings
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                notes.append(f"setting {name}: {a.get(name)} → {b.get(name)}")
                objects.append(ObjectRef("setting", name=name))
        before = {i.name for i in full[0].index_defs}
        after = {i.name for i in full[-1].index_defs}
        for name in sorted(after - before):
            notes.append(f"index {name} created")
            objects.append(ObjectRef("index", name=name))
        for name in sorted(before - after):
            notes.append(f"index {name} dropped")
            objects.append(ObjectRef("index", name=name))
    ddl: dict[str, datetime] = {}
    for snapshot in snapshots:
        for backend in snapshot.activity:
            text = " ".join(backend.query.split())
            if backend.state == "active" and text.lower().startswith(_DDL) and text not in ddl:
                ddl[text] = moment(snapshot)
    for text, at in ddl.items():
        notes.append(f"DDL running at {shown(at)}: {shorten.cut(text, 120, mark='')}")
    if not notes:
        return []
    finding = Finding(
        "schema-change", Severity.INFO,
        f"{len(notes)} change{'s' if len(notes) != 1 else ''} in the window",
        "; ".join(notes[:10]) + (f"; and {len(notes) - 10} more" if len(notes) > 10 else ""),
        tuple(objects[:20]) or (ObjectRef("database", name=snapshots[-1].server.database),),
        {"changes": notes})
    return [WindowFinding(finding, Seen(first_at, last_at, last_at, len(snapshots)))]


#: which function makes each history code (the docs test checks every code has one)
HISTORY_CHECKS = {"stall": stalls, "refresh-wave": refresh_waves,
                  "connection-spike": connection_spikes, "statement-regression": regressions,
                  "schema-change": changes}


def judge_window(snapshots: Sequence[Snapshot], thresholds: Thresholds | None = None, *,
                 day_before: Sequence[Snapshot] = (),
                 ) -> list[WindowFinding]:
    """Every finding of the window, ranked: the checks' findings with when they held, then
    the history checks."""
    found = findings_over(snapshots, thresholds)
    found += stalls(snapshots, thresholds) + refresh_waves(snapshots)
    found += connection_spikes(snapshots)
    found += changes(snapshots)
    if day_before:
        found += regressions(snapshots, day_before)
    order = {id(f): i for i, f in enumerate(rank([w.finding for w in found]))}
    return sorted(found, key=lambda w: order[id(w.finding)])


def with_when(item: WindowFinding) -> Finding:
    """The finding as a window report shows it: its title says when, its evidence carries
    ``started_at``/``ended_at``/``peak_at`` (ISO 8601, UTC)."""
    seen = item.seen
    span = (f"{shown(seen.started_at)} – {shown(seen.ended_at)}" if seen.frames > 1
            else shown(seen.started_at))
    evidence = {**item.finding.evidence,
                "started_at": seen.started_at.isoformat(), "ended_at": seen.ended_at.isoformat(),
                "peak_at": seen.peak_at.isoformat(), "frames": seen.frames}
    others = ""
    if item.pids:
        evidence["pids"] = list(item.pids)
        others = f" (and {len(item.pids) - 1} other pids over the window)"
    return replace(item.finding, title=f"{item.finding.title}{others} [{span}]",
                   evidence=evidence)


def as_findings(items: Iterable[WindowFinding]) -> tuple[Finding, ...]:
    """The window's findings, each saying when it held."""
    return tuple(with_when(i) for i in items)
