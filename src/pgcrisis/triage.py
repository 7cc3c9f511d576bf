"""One triage pass: connect safely, collect a snapshot, run the checks. No printing here.

With ``all_databases`` the checks that are per database (tables, indexes, statistics,
statements) also run in every other database the role may connect to, a few at a time;
server-wide checks (sessions, locks, connections, slots) run once. Every per-database
finding then names its database (an object of kind ``database``, and ``[db]`` before its
title). Findings of one code and one remedy kind over many objects are merged into one
finding listing them (:mod:`pgcrisis.checks.grouping`, per database), then linked to their
causes (:mod:`pgcrisis.checks.causes`), so ``caused_by`` indexes the grouped list.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from pgcrisis.checks import catalogue  # noqa: F401  (registers every check)
from pgcrisis.checks.causes import link, tree
from pgcrisis.checks.grouping import group
from pgcrisis.checks.registry import CHECKS, CheckResults, run_checks
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.collect.collector import collect, with_server_parts
from pgcrisis.collect.probe import ProbeOptions
from pgcrisis.collect.session import SessionLimits, connect
from pgcrisis.dsn import Target, with_overrides
from pgcrisis.errors import ConnectError
from pgcrisis.model.findings import Finding, ObjectRef, Skipped, exit_code, rank
from pgcrisis.model.snapshot import PARTS, SERVER_PARTS, Snapshot

#: databases read at the same time by ``--all-databases`` (each is one more connection)
PARALLEL_DATABASES = 4


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


def per_database_checks() -> tuple[str, ...]:
    """Codes of the checks that need a per-database part (run again in every database)."""
    return tuple(code for code, spec in CHECKS.items() if not set(spec.needs) <= SERVER_PARTS)


def _in_database(finding: Finding, database: str) -> Finding:
    """``finding`` naming ``database`` (unless it already names one)."""
    if any(o.kind == "database" for o in finding.objects):
        return finding
    return replace(finding, title=f"[{database}] {finding.title}",
                   objects=(*finding.objects, ObjectRef("database", name=database)))


@dataclass(frozen=True, slots=True)
class _Other:
    database: str
    results: CheckResults | None
    queries: int
    error: str | None = None


def _grouped(results: CheckResults) -> CheckResults:
    """``results`` with per-object findings of one kind merged (see checks/grouping.py)."""
    return CheckResults(group(results.findings), results.skipped)


def _check_other(target: Target, database: str, primary: Snapshot, limits: SessionLimits | None,
                 thresholds: Thresholds | None, options: ProbeOptions | None,
                 codes: Sequence[str]) -> _Other:
    other = Target(with_overrides(target.conninfo, dbname=database), target.source)
    try:
        with connect(other, limits) as conn:
            snap = collect(conn, options, parts=set(PARTS) - SERVER_PARTS)
    except ConnectError as exc:
        return _Other(database, None, 0, str(exc))
    snap = with_server_parts(snap, primary)
    return _Other(database, _grouped(run_checks(snap, thresholds, only=codes)),
                  snap.query_count)


def _merge_skipped(primary: Sequence[Skipped], others: Sequence[_Other]) -> tuple[Skipped, ...]:
    """The first database's skipped checks, then one line per (check, reason) elsewhere."""
    merged = list(primary)
    seen = {(s.check, s.reason) for s in primary}
    where: dict[tuple[str, str], list[str]] = {}
    for o in others:
        if o.results is None:
            continue
        for s in o.results.skipped:
            if (s.check, s.reason) not in seen:
                where.setdefault((s.check, s.reason), []).append(o.database)
    for (code, reason), dbs in where.items():
        names = ", ".join(dbs[:5]) + (f" and {len(dbs) - 5} more" if len(dbs) > 5 else "")
        merged.append(Skipped(code, f"{reason} (in {names})"))
    for o in others:
        if o.error is not None:
            for code in per_database_checks():
                merged.append(Skipped(code, f"database {o.database}: {o.error}"))
                break
    return tuple(merged)


def judge(target: Target, snapshot: Snapshot, thresholds: Thresholds | None = None, *,
          started_at: datetime | None = None, duration_ms: float = 0.0,
          recording: Recorded | None = None) -> TriageReport:
    """The report on one snapshot, live or rebuilt from a recording: the same checks, grouped
    and linked the same way."""
    results = _grouped(run_checks(snapshot, thresholds))
    return TriageReport(target, snapshot, results, started_at or snapshot.taken_at,
                        duration_ms, caused_by=link(results.findings),
                        databases=(snapshot.server.database,),
                        queries=snapshot.query_count, recording=recording)


def run_triage(target: Target, *, limits: SessionLimits | None = None,
               thresholds: Thresholds | None = None,
               options: ProbeOptions | None = None,
               all_databases: bool = False, sample_s: float = 0.0) -> TriageReport:
    """Connect with a safe session, collect, check; raise ConnectError if unreachable."""
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    with connect(target, limits) as conn:
        snapshot = collect(conn, options, sample_s=sample_s)
    results = _grouped(run_checks(snapshot, thresholds))
    databases: tuple[str, ...] = (snapshot.server.database,)
    queries = snapshot.query_count
    if all_databases:
        codes = per_database_checks()
        names = [d.name for d in snapshot.server_health.databases
                 if d.allow_connections and d.can_connect and not d.is_template
                 and d.name != snapshot.server.database]
        with ThreadPoolExecutor(max_workers=PARALLEL_DATABASES) as pool:
            others = list(pool.map(lambda name: _check_other(
                target, name, snapshot, limits, thresholds, options, codes), names))
        findings = [(_in_database(f, snapshot.server.database) if f.code in codes else f)
                    for f in results.findings]
        for o in others:
            if o.results is not None:
                findings.extend(_in_database(f, o.database) for f in o.results.findings)
        results = CheckResults(tuple(rank(findings)), _merge_skipped(results.skipped, others))
        databases += tuple(o.database for o in others)
        queries += sum(o.queries for o in others)
    return TriageReport(target, snapshot, results, started_at,
                        (time.perf_counter() - t0) * 1000, caused_by=link(results.findings),
                        databases=databases, queries=queries)
