"""``/metrics``: the latest recorded sample as Prometheus figures (OpenMetrics), for an existing
Prometheus/Grafana stack to scrape: sessions by state, lock waiters, refreshes running,
transactions, finding counts by code and severity (the same checks as triage), errors counted
from the server's log. A collector reads the store at each scrape; nothing is kept between.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from pgcrisis.errors import PgcrisisError
from pgcrisis.history.service import triage_at
from pgcrisis.store import Store
from pgcrisis.store.series import reading

#: errors of the log are given over this last stretch of the recording
ERRORS_OVER = timedelta(minutes=5)


class RecordingCollector(Collector):
    """The figures of recording ``name`` in ``store`` as of its latest sample."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name

    def collect(self) -> Iterator[Metric]:
        cover = self.store.coverage(self.name)
        up = GaugeMetricFamily("pgcrisis_recording_up",
                               "1 when the recording has a sample", labels=["recording"])
        up.add_metric([self.name], 1 if cover else 0)
        yield up
        if cover is None:
            return
        last = cover[1]
        try:
            report = triage_at(self.store, self.name, last)
        except PgcrisisError:
            return
        snap = report.snapshot
        label = [self.name]
        stamp = GaugeMetricFamily("pgcrisis_last_sample_timestamp_seconds",
                                  "Server time of the latest sample", labels=["recording"])
        stamp.add_metric(label, last.timestamp())
        yield stamp
        r = reading(snap)
        sessions = GaugeMetricFamily("pgcrisis_sessions", "Client sessions by state",
                                     labels=["recording", "state"])
        for state, value in (("active", r.active), ("idle", r.idle),
                             ("idle in transaction", r.idle_tx)):
            sessions.add_metric([*label, state], value)
        yield sessions
        for metric, text, value in (
                ("pgcrisis_lock_waiters", "Sessions waiting on a lock", r.waiting),
                ("pgcrisis_refreshes_running", "Materialized view refreshes running",
                 r.refreshing)):
            g = GaugeMetricFamily(metric, text, labels=["recording"])
            g.add_metric(label, value)
            yield g
        if snap.transactions is not None:
            c = CounterMetricFamily("pgcrisis_transactions",
                                    "Transactions committed and rolled back (all databases)",
                                    labels=["recording"])
            c.add_metric(label, snap.transactions.total)
            yield c
        minute = self.store.series(self.name, last - timedelta(minutes=2), last)
        rated = [b for b in minute if b.seconds > 0]
        if rated:
            tps = GaugeMetricFamily("pgcrisis_transactions_per_second",
                                    "Transactions per second over the latest minute",
                                    labels=["recording"])
            tps.add_metric(label, rated[-1].xacts / rated[-1].seconds)
            yield tps
        findings = GaugeMetricFamily("pgcrisis_findings",
                                     "Findings of the latest sample by code and severity",
                                     labels=["recording", "code", "severity"])
        for (code, severity), n in sorted(Counter(
                (f.code, f.severity.value) for f in report.findings).items()):
            findings.add_metric([*label, code, severity], n)
        yield findings
        errs = GaugeMetricFamily("pgcrisis_log_errors",
                                 "Errors in the server's log over the last 5 minutes",
                                 labels=["recording", "sqlstate", "tag"])
        counts: Counter[tuple[str, str]] = Counter()
        for row in self.store.log_errors(self.name, last - ERRORS_OVER, last):
            counts[(row.sqlstate, row.tag)] += row.count
        for (sqlstate, tag), n in sorted(counts.items()):
            errs.add_metric([*label, sqlstate, tag], n)
        yield errs


def registry(store: Store, name: str) -> CollectorRegistry:
    """A registry holding only the recording's collector."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(RecordingCollector(store, name))
    return reg


def exposition(reg: CollectorRegistry) -> tuple[bytes, str]:
    """The registry in the OpenMetrics text format, and its content type."""
    from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST, generate_latest
    return generate_latest(reg), CONTENT_TYPE_LATEST  # type: ignore[no-untyped-call]
