"""The pure half of triage: a snapshot in, a report out (ranked, grouped, linked findings).

The same function judges a live snapshot (:mod:`pgcrisis.triage`), a moment rebuilt from a
recording (:mod:`pgcrisis.history.service`), a sample in ``top`` and a test fixture. It reads no
server, so judging a recording never loads a database driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pgcrisis.checks import catalogue  # noqa: F401  (registers every check)
from pgcrisis.checks.causes import link, tree
from pgcrisis.checks.grouping import group
from pgcrisis.checks.registry import CheckResults, run_checks
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.dsn import Target
from pgcrisis.model.findings import Finding, exit_code
from pgcrisis.model.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Recorded:
    """What part of a recording a report judges: a moment (``start == end``) or a window;
    ``line`` is how the renderers say it (times in the local zone, named)."""

    name: str
    start: datetime
    end: datetime
    line: str


@dataclass(frozen=True, slots=True)
class TriageReport:
    """Everything a renderer needs: the snapshot, ranked findings, skipped checks, timing.

    ``caused_by[i]`` lists the indexes (into ``findings``) of the findings that cause
    finding ``i``. ``databases`` are the databases examined (the first is the snapshot's);
    ``queries`` counts every query sent, in all of them.
    """

    target: Target
    snapshot: Snapshot
    results: CheckResults
    started_at: datetime
    duration_ms: float
    caused_by: tuple[tuple[int, ...], ...] = ()
    databases: tuple[str, ...] = ()
    queries: int = 0
    #: set when the report judges a recording, not the live server
    recording: Recorded | None = None

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Ranked findings (critical first, then by impact)."""
        return self.results.findings

    @property
    def exit_code(self) -> int:
        """Nagios convention: 0 nothing above info, 1 warning, 2 critical."""
        return exit_code(self.findings)

    def by_code(self, code: str) -> list[Finding]:
        """Findings with this code, in rank order."""
        return [f for f in self.findings if f.code == code]

    def causes_of(self, finding: Finding) -> list[Finding]:
        """The findings that cause ``finding``."""
        index = self.findings.index(finding)
        causes = self.caused_by[index] if index < len(self.caused_by) else ()
        return [self.findings[i] for i in causes]

    def tree(self) -> list[tuple[int, int]]:
        """``(index, depth)`` in print order: each root, then its consequences beneath it."""
        caused_by = self.caused_by or tuple(() for _ in self.findings)
        return tree(self.findings, caused_by)


def grouped(results: CheckResults) -> CheckResults:
    """``results`` with per-object findings of one kind merged (see checks/grouping.py)."""
    return CheckResults(group(results.findings), results.skipped)


def judge(target: Target, snapshot: Snapshot, thresholds: Thresholds | None = None, *,
          started_at: datetime | None = None, duration_ms: float = 0.0,
          recording: Recorded | None = None) -> TriageReport:
    """The report on one snapshot, live or rebuilt from a recording: the same checks, grouped
    and linked the same way."""
    results = grouped(run_checks(snapshot, thresholds))
    return TriageReport(target, snapshot, results, started_at or snapshot.taken_at,
                        duration_ms, caused_by=link(results.findings),
                        databases=(snapshot.server.database,),
                        queries=snapshot.query_count, recording=recording)
