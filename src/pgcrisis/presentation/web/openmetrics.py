"""``/metrics`` as Prometheus reads it (OpenMetrics): the families' names, help texts, types
and labels of a recording's latest figures (:func:`pgcrisis.serve.metrics.latest`), served by
``pgcrisis serve`` and by ``pgcrisis record --metrics-port``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from pgcrisis.serve.metrics import Latest


def families(name: str, latest: Latest) -> Iterator[Metric]:
    """The metric families of recording ``name``: ``pgcrisis_recording_up`` always, the
    others when its latest sample could be judged."""
    up = GaugeMetricFamily("pgcrisis_recording_up",
                           "1 when the recording has a sample", labels=["recording"])
    up.add_metric([name], 1 if latest.up else 0)
    yield up
    s = latest.sample
    if s is None:
        return
    label = [name]
    stamp = GaugeMetricFamily("pgcrisis_last_sample_timestamp_seconds",
                              "Server time of the latest sample", labels=["recording"])
    stamp.add_metric(label, s.at.timestamp())
    yield stamp
    r = s.reading
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
    if s.transactions is not None:
        c = CounterMetricFamily("pgcrisis_transactions",
                                "Transactions committed and rolled back (all databases)",
                                labels=["recording"])
        c.add_metric(label, s.transactions)
        yield c
    if s.tps is not None:
        tps = GaugeMetricFamily("pgcrisis_transactions_per_second",
                                "Transactions per second over the latest minute",
                                labels=["recording"])
        tps.add_metric(label, s.tps)
        yield tps
    findings = GaugeMetricFamily("pgcrisis_findings",
                                 "Findings of the latest sample by code and severity",
                                 labels=["recording", "code", "severity"])
    for (code, severity), n in s.findings:
        findings.add_metric([*label, code, severity], n)
    yield findings
    minutes = round(s.errors_over.total_seconds() / 60)
    errs = GaugeMetricFamily("pgcrisis_log_errors",
                             f"Errors in the server's log over the last {minutes} minutes",
                             labels=["recording", "sqlstate", "tag"])
    for (sqlstate, tag), n in s.errors:
        errs.add_metric([*label, sqlstate, tag], n)
    yield errs
