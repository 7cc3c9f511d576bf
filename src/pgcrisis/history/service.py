"""Triage of the past: a moment or a window of a recording, judged by the same checks.

``triage_at`` rebuilds the snapshot of a moment from the store and makes the same report a
live triage would have made then (same renderers, same exit codes). ``triage_window`` judges
a window: each finding with when it started, ended and peaked, plus the checks only a
history can make (:mod:`pgcrisis.history.window`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta

from pgcrisis.checks.causes import link
from pgcrisis.checks.registry import CheckResults
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.dsn import Target
from pgcrisis.errors import ConfigError, StoreError
from pgcrisis.history.window import as_findings, judge_window
from pgcrisis.judge import Recorded, TriageReport, judge
from pgcrisis.model.findings import Skipped
from pgcrisis.model.load import CpuCount, with_cpus
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.store import Store
from pgcrisis.when import parse_moment, shown

#: a moment this close after the last frame is still "in" the recording (the next sample was
#: due); later than that, the recording does not cover it
SLACK = timedelta(minutes=2)


def recording_name(store: Store, name: str | None) -> str:
    """``name``, or the store's only recording; a clear error otherwise."""
    names = store.names()
    if name is not None:
        if name not in names:
            raise ConfigError(f"no recording named {name!r} in the store (it has: "
                              f"{', '.join(names) or 'none'})")
        return name
    if not names:
        raise StoreError("the store holds no recording yet")
    if len(names) > 1:
        raise ConfigError(f"the store holds several recordings: give --name ({', '.join(names)})")
    return names[0]


def _covered(store: Store, name: str, start: datetime, end: datetime) -> None:
    cover = store.coverage(name)
    if cover is None:
        raise StoreError(f"the recording {name!r} is empty")
    first, last = cover
    if end < first or start > last + SLACK:
        what = shown(start) if start == end else f"{shown(start)} – {shown(end)}"
        raise ConfigError(f"{what} is outside the recording {name!r}, which covers "
                          f"{shown(first)} to {shown(last)}")


def _target(name: str) -> Target:
    return Target("", f"recording {name}", label=f"recording {name}")


def _cpus(snapshot: Snapshot, cpus: CpuCount | None) -> Snapshot:
    """``snapshot`` whose load profile is judged against ``cpus`` where the recorder did not
    know the server's CPU count."""
    load = with_cpus(snapshot.load, cpus)
    return snapshot if load is snapshot.load else replace(snapshot, load=load)


def triage_at(store: Store, name: str | None, when: datetime,
              thresholds: Thresholds | None = None, cpus: CpuCount | None = None
              ) -> TriageReport:
    """The report triage would have made at ``when`` (``cpus``: the server's CPU count,
    where the recording does not know it)."""
    t0 = time.perf_counter()
    name = recording_name(store, name)
    _covered(store, name, when, when)
    snapshot = store.snapshot_at(name, when)
    if snapshot is None:
        raise StoreError(f"the recording {name!r} has no sample at or before {shown(when)}")
    snapshot = _cpus(snapshot, cpus)
    at = snapshot.server_time or snapshot.taken_at
    line = f"as of {shown(at)} (recording {name})"
    return judge(_target(name), snapshot, thresholds, started_at=at,
                 duration_ms=(time.perf_counter() - t0) * 1000,
                 recording=Recorded(name, at, at, line))


def triage_window(store: Store, name: str | None, start: datetime, end: datetime,
                  thresholds: Thresholds | None = None, cpus: CpuCount | None = None
                  ) -> TriageReport:
    """The window's findings with when each held, and the history checks'."""
    if end <= start:
        raise ConfigError(f"--to ({shown(end)}) must be after --from ({shown(start)})")
    t0 = time.perf_counter()
    name = recording_name(store, name)
    _covered(store, name, start, end)
    snapshots = [_cpus(s, cpus) for s in store.snapshots(name, start, end)]
    if not snapshots:
        raise StoreError(f"the recording {name!r} has no sample between {shown(start)} and "
                         f"{shown(end)}")
    day = timedelta(days=1)
    day_before = list(store.snapshots(name, start - day, end - day))
    skipped: tuple[Skipped, ...] = () if day_before else (Skipped(
        "statement-regression", "no recording of the same window the day before"),)
    findings = as_findings(judge_window(snapshots, thresholds, day_before=day_before))
    last = snapshots[-1]
    line = f"{shown(start)} – {shown(end)}, {len(snapshots)} samples (recording {name})"
    return TriageReport(_target(name), last, CheckResults(findings, skipped), start,
                        (time.perf_counter() - t0) * 1000, caused_by=link(findings),
                        databases=(last.server.database,), queries=0,
                        recording=Recorded(name, start, end, line))


def triage_past(store: str | None, name: str | None, *, at: str | None, start: str | None,
                end: str | None, thresholds: Thresholds | None = None,
                cpus: CpuCount | None = None) -> TriageReport:
    """``triage --store``: a moment (``at``) or a window (``start``/``end``) as typed."""
    from pgcrisis.store import open_store

    if store is None:
        raise ConfigError("--at, --from and --to judge a recording: give --store PATH|DSN")
    if at is not None and (start is not None or end is not None):
        raise ConfigError("give either --at or --from/--to, not both")
    if at is None and (start is None or end is None):
        raise ConfigError("with --store give --at TIME, or both --from and --to")
    opened = open_store(store, create=False)
    try:
        if at is not None:
            return triage_at(opened, name, parse_moment(at), thresholds, cpus)
        assert start is not None and end is not None
        return triage_window(opened, name, parse_moment(start), parse_moment(end), thresholds,
                             cpus)
    finally:
        opened.close()
