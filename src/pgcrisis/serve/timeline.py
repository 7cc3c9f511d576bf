"""The timeline page's figures over a range, each reduced to the chart's pixel columns.

Sessions by state, lock waiters, refreshes running, job runs, transactions per second and
the log's errors come from the per-minute series the writer derived (:mod:`pgcrisis.store.
series`), or, for a range of a few minutes, from the samples themselves, a bucket a second;
each column keeps the minimum and maximum of its values (:func:`~.reduce.reduce`).

Two figures are drawn otherwise:

- *busy*: statement time per second, that is the sessions busy running statements on
  average. Statements are read once a minute, so each reading's time is a rate over the
  span since the reading before, and is drawn over that whole span
  (:func:`~.reduce.spread`), never as one spike at the instant it was read;
- *the load*: average active sessions by wait class (on CPU, I/O, locks, LWLocks, IPC, the
  client, other), each column the parts of its busiest sample (:func:`~.reduce.peaks`), with
  the CPU count they were set against. A recording made before the load was kept has none,
  and says so.

Pure reading: a store in, typed figures out (:mod:`pgcrisis.presentation.web.documents`
words them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from pgcrisis.model.waits import SHOWN_CLASSES
from pgcrisis.serve.reduce import Reduced, columns, peaks, reduce, spread
from pgcrisis.store import FIGURES, Store, to_us
from pgcrisis.store.series import LOAD_COLUMNS, MINUTE_US, Bucket, buckets_of

#: the widest chart the server reduces to (a request asking for more gets this many columns)
MAX_WIDTH = 4000
#: a range this short is drawn from the samples themselves, a bucket a second (the stored
#: series has a row a minute)
FINE_SPAN = timedelta(minutes=15)
#: what the timeline draws besides the stored figures (:data:`~pgcrisis.store.FIGURES`):
#: transactions per second, the errors counted from the server's log per minute, and the
#: sessions busy running statements (statement time per second)
DERIVED = ("tps", "errors", "busy")
#: a minute's statement time covers the span before its reading: the minutes this far around
#: the range are read too, so that their spans reach into it
SPREAD_SLACK = timedelta(minutes=2)
#: figures that may be unknown in a row (NaN, not 0, where they are)
_MAYBE = ("cpus", "stmt_at")

Figures = dict[str, Any]  # name -> numpy array, "t" the buckets' starts (µs)


@dataclass(frozen=True, slots=True)
class Load:
    """The load by wait class over the range: per column, the average active sessions of
    each class of :data:`~pgcrisis.model.waits.SHOWN_CLASSES` at the column's busiest sample
    (``None``: no sample with a profile there), and the CPU count (the largest the column's
    samples knew; ``None``: not known). ``recorded`` says whether any sample of the range
    had a profile; ``cpus_how`` how the count was known, or why it was not."""

    classes: dict[str, list[float | None]]
    cpus: list[float | None]
    recorded: bool
    cpus_how: str = ""


@dataclass(frozen=True, slots=True)
class Timeline:
    """Figures over a range, each reduced to ``width`` pixel columns (min and max of each);
    ``columns`` the start of each column and ``step_us`` the bucket the figures were taken
    at (µs); ``minutes`` how many buckets were read; ``load`` the load by wait class."""

    width: int
    columns: list[int]
    coverage: tuple[datetime, datetime] | None
    minutes: int
    step_us: int
    lines: dict[str, Reduced]
    load: Load


def width_of(width: int) -> int:
    """A chart's width as the server reduces to it (1 to :data:`MAX_WIDTH` columns)."""
    return max(1, min(width, MAX_WIDTH))


def _of_buckets(buckets: list[Bucket]) -> Figures:
    """Every figure of ``buckets`` as an array (unknown values: NaN)."""
    out: Figures = {"t": np.array([b.t for b in buckets], dtype=np.int64)}
    for key in FIGURES:
        out[key] = np.array([getattr(b, key) for b in buckets], dtype=np.float64)
    return out


def _minutes(store: Store, name: str, start: datetime, end: datetime) -> Figures:
    """The per-minute series of ``[start, end]`` as arrays: the stored columns (a store of
    schema 2 has no load: its columns read as none), else derived from the frames."""
    stored = store.series_figures(name, start, end)
    if stored is None:
        return _of_buckets(store.series(name, start, end))
    n = len(stored.t)
    out: Figures = {"t": np.array(stored.t, dtype=np.int64)}
    for key in FIGURES:
        column = getattr(stored, key)
        out[key] = (np.array(column, dtype=np.float64) if len(column) == n
                    else np.full(n, np.nan if key in _MAYBE else 0.0))
    return out


def _busy(minutes: Figures, s: int, e: int, width: int) -> Reduced:
    """Statement time per second, each minute's over the span its readings cover (a minute
    of a store written before that span was kept: the minute itself)."""
    spans = np.where(minutes["stmt_seconds"] > 0, minutes["stmt_seconds"] * 1e6,
                     np.where(minutes["statement_ms"] > 0, MINUTE_US, 0.0))
    ends = np.where(np.isnan(minutes["stmt_at"]), minutes["t"] + MINUTE_US, minutes["stmt_at"])
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(spans > 0, minutes["statement_ms"] * 1000 / spans, np.nan)
    return spread(ends.astype(np.int64).tolist(), spans.astype(np.int64).tolist(),
                  values.tolist(), s, e, width)


def _load(figures: Figures, s: int, e: int, width: int) -> tuple[Load, bool]:
    """The load per column (its busiest sample's parts) and whether the CPU count is known
    anywhere in the range."""
    n = figures["load_samples"]
    times = figures["t"]
    inside = (times >= s) & (times < e)
    with np.errstate(divide="ignore", invalid="ignore"):
        parts = [np.where(n > 0, figures[key] / n, np.nan) for key in LOAD_COLUMNS]
    totals = np.sum(parts, axis=0) if len(times) else np.array([], dtype=np.float64)
    chosen = peaks(times.tolist(), totals.tolist(), s, e, width)
    classes = {c: [None if i is None else round(float(part[i]), 3) for i in chosen]
               for c, part in zip(SHOWN_CLASSES, parts, strict=True)}
    cpus = reduce(times.tolist(), figures["cpus"].tolist(), s, e, width).hi
    recorded = bool(np.any(n[inside] > 0))
    return Load(classes, cpus, recorded), any(c is not None for c in cpus)


def _cpus_how(store: Store, name: str, end: datetime) -> str:
    """How the CPU count of the recording's profile at ``end`` was known, or why not."""
    snapshot = store.snapshot_at(name, end)
    profile = snapshot.load if snapshot is not None else None
    return profile.cpus.how if profile is not None else ""


def _errors_per_minute(store: Store, name: str, start: datetime, end: datetime
                       ) -> dict[int, int]:
    counts: Counter[int] = Counter()
    for row in store.log_errors(name, start, end):
        counts[row.t] += row.count
    return dict(counts)


def timeline(store: Store, name: str, start: datetime, end: datetime, width: int,
             keys: Iterable[str]) -> Timeline:
    """Figures ``keys`` (of :data:`~pgcrisis.store.FIGURES` and :data:`DERIVED`) over
    ``[start, end)``, reduced to ``width`` columns (a column with no sample is ``None``), and
    the load by wait class."""
    width = width_of(width)
    s, e = to_us(start), to_us(end)
    minutes = _minutes(store, name, start - SPREAD_SLACK, end + SPREAD_SLACK)
    if end - start <= FINE_SPAN:
        step_us = 1_000_000
        figures = _of_buckets(buckets_of(store.snapshots(name, start, end), step_us=step_us))
        count = len(figures["t"])
    else:
        step_us = MINUTE_US
        figures = minutes
        count = int(np.count_nonzero((minutes["t"] >= s - s % MINUTE_US) & (minutes["t"] <= e)))
    with np.errstate(divide="ignore", invalid="ignore"):
        seconds = figures["seconds"]
        figures["tps"] = np.where(seconds > 0, figures["xacts"] / np.where(seconds > 0,
                                                                          seconds, 1), np.nan)
    errors = _errors_per_minute(store, name, start, end)
    error_times = sorted(errors)
    times = figures["t"].tolist()
    lines: dict[str, Reduced] = {}
    for key in keys:
        if key == "errors":
            lines[key] = reduce(error_times, [errors[t] for t in error_times], s, e, width)
        elif key == "busy":
            lines[key] = _busy(minutes, s, e, width)
        else:
            lines[key] = reduce(times, figures[key], s, e, width)
    load, cpus_known = _load(figures, s, e, width)
    if load.recorded and not cpus_known:
        load = Load(load.classes, load.cpus, True, _cpus_how(store, name, end))
    return Timeline(width, columns(s, e, width), store.coverage(name), count, step_us, lines,
                    load)
