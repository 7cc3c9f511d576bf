"""missing-statistics: tables the planner knows nothing about, though they hold rows.

After a ``pg_upgrade`` (before PostgreSQL 18, which carries statistics over) or a restore
that never analyzes, every table starts with no planner statistics at all: no row count
(``reltuples`` -1 on 14+, 0 with ``relpages`` 0 before) and no column statistics, so the
planner sizes it from its file and guesses every predicate's selectivity. Joins and scans are
planned blind, and a server that ran fine the day before saturates its CPUs with bad plans
until someone runs ANALYZE. The statistics counters start from zero too (a new cluster, a
reset): ``n_mod_since_analyze`` is 0, so :func:`~pgcrisis.checks.vacuum.stale_statistics`
sees no change, and autovacuum, which analyzes after ``autovacuum_analyze_threshold`` changed
rows, never analyzes a table that is only read.

What is known of such a table is what its counters show since they were reset: its live
rows, and the rows each sequential scan read (a lower bound of its rows). A table showing at
least ``Thresholds.missing_statistics_min_rows`` is reported, with the statements that read
it (the statements probe's costliest, by the tables their text names); all of them make
one finding, most used and largest first. A statement that saturates the CPUs and reads
such a table has this finding as its cause (:mod:`pgcrisis.checks.causes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pgcrisis import shorten
from pgcrisis.actions import Action, Analyze, AnalyzeInStages
from pgcrisis.checks._text import plural
from pgcrisis.checks.horizon import user_tables
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.evidence_statistics import MissingStatisticsEvidence, TableWithoutStatistics
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.health import TableHealth
from pgcrisis.model.relations import Table
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.model.statements import Statement
from pgcrisis.shorten import listed

#: what the planner assumes without column statistics (selfuncs.h), said in the finding
_GUESSES = "0.5% of the rows for an equality, a third for a range"
#: where a table's rows are known from: its live rows, or what a sequential scan read (a
#: parallel scan's workers each count a scan of their share: a lower bound)
LIVE, SCANNED = "live rows", "rows read per sequential scan"


@dataclass(frozen=True, slots=True)
class _Blind:
    """A table without statistics, and what is known of it."""

    health: TableHealth
    table: Table | None
    rows: int
    rows_from: str
    reading: tuple[Statement, ...]

    @property
    def rows_read(self) -> int:
        t = self.table
        return (t.seq_tup_read + t.idx_tup_fetch) if t is not None else 0

    @property
    def held(self) -> str:
        """``300,000 rows``, or ``at least 66,667 rows`` where only scans tell."""
        return f"{'at least ' if self.rows_from == SCANNED else ''}{self.rows:,} rows"

    @property
    def known_from(self) -> str:
        """``300,000 live rows``, or ``at least 66,667 rows by what each sequential scan
        read``."""
        if self.rows_from == LIVE:
            return f"{self.rows:,} live rows"
        return f"{self.held} by what each sequential scan read"

    @property
    def rank(self) -> tuple[int, int]:
        """Most used first (rows read since the counters were reset), then largest."""
        return (self.rows_read, self.rows)


def without_statistics(snapshot: Snapshot, t: Thresholds) -> list[_Blind]:
    """The tables without planner statistics whose counters show at least
    ``missing_statistics_min_rows`` rows, most used and largest first."""
    version = snapshot.server.version_num
    statements = {s.queryid: s for s in snapshot.statements.rows}
    out = []
    for health in user_tables(snapshot):
        if not health.without_statistics(version):
            continue
        table = snapshot.relations.table(health.oid)
        scanned = round(table.rows_per_seq_scan) if table is not None else 0
        rows, rows_from = ((health.n_live_tup, LIVE) if health.n_live_tup >= scanned
                           else (scanned, SCANNED))
        if rows < t.missing_statistics_min_rows:
            continue
        reading = tuple(statements[q] for q in snapshot.index_advice.reading(health.oid)
                        if q in statements)
        out.append(_Blind(health, table, rows, rows_from, reading))
    return sorted(out, key=lambda b: tuple(-k for k in b.rank))


def _analyzes_after(snapshot: Snapshot, health: TableHealth) -> int | None:
    """Changed rows after which autovacuum analyzes it (None: it never will)."""
    settings = snapshot.server_health
    if settings.settings.get("autovacuum", "on") != "on" or health.autovacuum_disabled:
        return None
    scale = settings.setting_float("autovacuum_analyze_scale_factor", 0.1)
    base = settings.setting_int("autovacuum_analyze_threshold", 50)
    return round(base + scale * max(health.reltuples, 0.0))


def _record(snapshot: Snapshot, b: _Blind) -> TableWithoutStatistics:
    t = b.table
    return TableWithoutStatistics(
        name=b.health.name, rows=b.rows, rows_from=b.rows_from, live_rows=b.health.n_live_tup,
        seq_scan=t.seq_scan if t else 0,
        rows_per_seq_scan=round(t.rows_per_seq_scan) if t else 0,
        idx_scan=t.idx_scan if t else 0, rows_read=b.rows_read,
        changed_rows=b.health.n_mod_since_analyze, reltuples=b.health.reltuples,
        relpages=b.health.relpages,
        autovacuum_analyzes_after=_analyzes_after(snapshot, b.health),
        queryids=tuple(s.queryid for s in b.reading))


def _autovacuum(snapshot: Snapshot, blind: list[_Blind], them: str) -> str:
    """Why autovacuum has not analyzed them, and whether it will."""
    after = [(b, a) for b in blind if (a := _analyzes_after(snapshot, b.health)) is not None]
    if not after:
        return f"Autovacuum is off for {them}: nothing analyzes {them} but a person."
    b, threshold = after[0]
    counted = b.health.n_mod_since_analyze
    said = (f"Autovacuum analyzes a table after {threshold:,} changed rows and counts "
            f"{counted:,} for {b.health.name}")
    if counted >= threshold:
        return said + ": it will get to it, but it has not yet (busy, or the load just ended)."
    return (said + " since the counters were reset: a table that is only read is never "
            "analyzed.")


def _one(b: _Blind) -> str:
    t = b.table
    reads = (f"scanned {t.seq_scan:,} times sequentially and {t.idx_scan:,} by index"
             if t is not None else "not read")
    return f"{b.health.name} ({b.known_from}; {reads})"


def _statements_text(snapshot: Snapshot, reading: list[Statement], them: str) -> str:
    if "index_advice" in snapshot.unavailable:
        return (f" Which statements read {them} is not known: "
                f"{snapshot.unavailable['index_advice']}.")
    if not reading:
        return f" None of the costliest statements names {them}."
    return f" Statements naming {them}: " + "; ".join(s.label for s in reading[:3]) + (
        f" and {len(reading) - 3} more." if len(reading) > 3 else ".")


def _remedy(blind: list[_Blind]) -> Remedy:
    names = tuple(b.health.name for b in blind)
    actions: list[Action] = [Analyze(name) for name in names]
    if len(names) > 1:
        actions.append(AnalyzeInStages(names, option=(
            "all of them in stages, coarse statistics for every table first (what vacuumdb "
            "--analyze-in-stages does)")))
    return Remedy(
        ("Analyze " + ("it now" if len(names) == 1 else "them now, most used first")
         + ": ANALYZE samples, seconds even for millions of rows, and the planner uses the "
         "statistics at once. After a pg_upgrade or a restore, analyze every table of every "
         "database: vacuumdb --all --analyze-in-stages (coarse statistics everywhere first)."),
        tuple(actions))


@check("missing-statistics", needs=("table_health", "relations"))
def missing_statistics(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Tables holding rows that the planner has no statistics for at all (never analyzed)."""
    blind = without_statistics(snapshot, t)
    if not blind:
        return
    reading: list[Statement] = []
    for b in blind:
        reading += [s for s in b.reading if s not in reading]
    reading.sort(key=lambda s: -s.total_exec_ms)
    rows = sum(b.rows for b in blind)
    names = [b.health.name for b in blind]
    them = "it" if len(blind) == 1 else "them"
    title = (f"{names[0]} has no planner statistics (never analyzed) though it holds "
             f"{blind[0].held}" if len(blind) == 1 else
             f"{plural(len(blind), 'table')} have no planner statistics (never analyzed) though "
             f"they hold {rows:,} rows or more: {listed(names, 3)}")
    yield Finding(
        code="missing-statistics",
        severity=Severity.WARNING,
        title=title,
        detail=(f"The planner has no row count and no column statistics for "
                f"{'; '.join(_one(b) for b in blind[:6])}"
                + (f" and {len(blind) - 6} more" if len(blind) > 6 else "")
                + f". It sizes {them} from the files on disk and guesses what every predicate "
                f"matches ({_GUESSES}): joins and scans are planned blind, as after a "
                "pg_upgrade or a restore that never analyzed. "
                + _autovacuum(snapshot, blind, them)
                + _statements_text(snapshot, reading, them)),
        objects=(*(ObjectRef("relation", name=n) for n in names),
                 *(ObjectRef("query", queryid=s.queryid, name=shorten.query(s.query, 60))
                   for s in reading)),
        evidence=MissingStatisticsEvidence(
            tables=tuple(_record(snapshot, b) for b in blind), rows=rows,
            queryids=tuple(s.queryid for s in reading),
            statements_known="index_advice" not in snapshot.unavailable),
        remedy=_remedy(blind),
        impact=float(sum(b.rows_read for b in blind) + rows),
    )
