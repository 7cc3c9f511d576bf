"""One live triage pass: connect safely, collect a snapshot, judge it (:mod:`pgcrisis.judge`).
No printing here.

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

from pgcrisis.checks.causes import link
from pgcrisis.checks.registry import CHECKS, CheckResults, run_checks
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.collect.collector import collect, with_server_parts
from pgcrisis.collect.probe import ProbeOptions
from pgcrisis.collect.session import SessionLimits, connect
from pgcrisis.dsn import Target, with_overrides
from pgcrisis.errors import ConnectError
from pgcrisis.judge import TriageReport, grouped
from pgcrisis.model.findings import Finding, ObjectRef, Skipped, rank
from pgcrisis.model.parts import DATABASE_PARTS, SERVER_PARTS, names
from pgcrisis.model.snapshot import Snapshot

#: databases read at the same time by ``--all-databases`` (each is one more connection)
PARALLEL_DATABASES = 4


def per_database_checks() -> tuple[str, ...]:
    """Codes of the checks that need a per-database part (run again in every database)."""
    server_wide = names(SERVER_PARTS)
    return tuple(code for code, spec in CHECKS.items() if not set(spec.needs) <= server_wide)


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


def _check_other(target: Target, database: str, primary: Snapshot, limits: SessionLimits | None,
                 thresholds: Thresholds | None, options: ProbeOptions | None,
                 codes: Sequence[str]) -> _Other:
    other = Target(with_overrides(target.conninfo, dbname=database), target.source)
    try:
        with connect(other, limits) as conn:
            snap = collect(conn, options, parts=DATABASE_PARTS)
    except ConnectError as exc:
        return _Other(database, None, 0, str(exc))
    snap = with_server_parts(snap, primary)
    return _Other(database, grouped(run_checks(snap, thresholds, only=codes)),
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


def run_triage(target: Target, *, limits: SessionLimits | None = None,
               thresholds: Thresholds | None = None,
               options: ProbeOptions | None = None,
               all_databases: bool = False, sample_s: float = 0.0) -> TriageReport:
    """Connect with a safe session, collect, check; raise ConnectError if unreachable.

    With ``sample_s`` (the command's default is
    :data:`~pgcrisis.model.load.DEFAULT_WINDOW_S`), the load window is watched that long on a
    second safe session, in a thread, while the other probes run on the first."""
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    with connect(target, limits) as conn:
        snapshot = collect(conn, options, sample_s=sample_s,
                           second_session=lambda: connect(target, limits))
    results = grouped(run_checks(snapshot, thresholds))
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
