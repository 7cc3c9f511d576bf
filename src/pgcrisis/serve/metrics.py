"""``/metrics``: the latest recorded sample's figures, for an existing Prometheus/Grafana stack
to scrape: sessions by state, lock waiters, refreshes running, transactions, finding counts by
code and severity (the same checks as triage), errors counted from the server's log. A
collector reads the store at each scrape; nothing is kept between. The families' names,
help and labels are :mod:`pgcrisis.presentation.web.openmetrics`'.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from pgcrisis.errors import PgcrisisError
from pgcrisis.history.service import triage_at
from pgcrisis.presentation.web.openmetrics import families
from pgcrisis.store import Store
from pgcrisis.store.series import Reading, reading

#: errors of the log are given over this last stretch of the recording
ERRORS_OVER = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Sample:
    """The figures of a recording's latest sample: its server time, the sessions it saw,
    the transactions counter (``None``: not read), transactions per second over the latest
    minute that has a rate, and the counts of its findings (code, severity) and of the
    log's errors (SQLSTATE, tag) over the last ``errors_over``, sorted."""

    at: datetime
    reading: Reading
    transactions: int | None
    tps: float | None
    findings: list[tuple[tuple[str, str], int]]
    errors: list[tuple[tuple[str, str], int]]
    errors_over: timedelta = ERRORS_OVER


@dataclass(frozen=True, slots=True)
class Latest:
    """Whether the recording has a sample, and its figures (``None``: no sample, or one that
    could not be judged)."""

    up: bool
    sample: Sample | None


def latest(store: Store, name: str) -> Latest:
    """Recording ``name``'s latest sample, as of now."""
    cover = store.coverage(name)
    if cover is None:
        return Latest(False, None)
    last = cover[1]
    try:
        report = triage_at(store, name, last)
    except PgcrisisError:
        return Latest(True, None)
    snap = report.snapshot
    rated = [b for b in store.series(name, last - timedelta(minutes=2), last) if b.seconds > 0]
    counts: Counter[tuple[str, str]] = Counter()
    for row in store.log_errors(name, last - ERRORS_OVER, last):
        counts[(row.sqlstate, row.tag)] += row.count
    return Latest(True, Sample(
        last, reading(snap),
        snap.transactions.total if snap.transactions is not None else None,
        rated[-1].xacts / rated[-1].seconds if rated else None,
        sorted(Counter((f.code, f.severity.value) for f in report.findings).items()),
        sorted(counts.items())))


class RecordingCollector(Collector):
    """The figures of recording ``name`` in ``store`` as of its latest sample."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name

    def collect(self) -> Iterator[Metric]:
        yield from families(self.name, latest(self.store, self.name))


def registry(store: Store, name: str) -> CollectorRegistry:
    """A registry holding only the recording's collector."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(RecordingCollector(store, name))
    return reg


def exposition(reg: CollectorRegistry) -> tuple[bytes, str]:
    """The registry in the OpenMetrics text format, and its content type."""
    from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST, generate_latest
    return generate_latest(reg), CONTENT_TYPE_LATEST  # type: ignore[no-untyped-call]
