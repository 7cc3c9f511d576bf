"""One triage pass: connect safely, collect a snapshot, run the checks. No printing here."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pgcrisis.checks.registry import CheckResults, run_checks
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.collect.collector import collect
from pgcrisis.collect.probe import ProbeOptions
from pgcrisis.collect.session import SessionLimits, connect
from pgcrisis.dsn import Target
from pgcrisis.model.findings import Finding, Severity
from pgcrisis.model.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class TriageReport:
    """Everything a renderer needs: the snapshot, ranked findings, skipped checks, timing."""

    target: Target
    snapshot: Snapshot
    results: CheckResults
    started_at: datetime
    duration_ms: float

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Ranked findings (critical first, then by impact)."""
        return self.results.findings

    @property
    def exit_code(self) -> int:
        """Nagios convention: 0 nothing above info, 1 warning, 2 critical."""
        severities = {f.severity for f in self.findings}
        if Severity.CRITICAL in severities:
            return 2
        if Severity.WARNING in severities:
            return 1
        return 0

    def by_code(self, code: str) -> list[Finding]:
        """Findings with this code, in rank order."""
        return [f for f in self.findings if f.code == code]


def run_triage(target: Target, *, limits: SessionLimits | None = None,
               thresholds: Thresholds | None = None,
               options: ProbeOptions | None = None) -> TriageReport:
    """Connect with a safe session, collect, check; raise ConnectError if unreachable."""
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    with connect(target, limits) as conn:
        snapshot = collect(conn, options)
    results = run_checks(snapshot, thresholds)
    return TriageReport(target, snapshot, results, started_at, (time.perf_counter() - t0) * 1000)
