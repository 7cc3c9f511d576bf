"""The seed incident's causes, wired as demo causes: scenario, findings that name it, fix.

Each fix is what pgcrisis recommends: the finding's remedy SQL, or for cached views the SQL
``pgcrisis cache prepare --apply`` and ``cache plan --apply`` run. So the demo proves the
advice works, not a fix written beside it. Only where the seed's fix was a code change (the
leaking recursive delete) is the fix a deployed code path.
"""

from __future__ import annotations

from collections.abc import Sequence

from pgcrisis.cache.service import night_plan_sql, prepare_sql
from pgcrisis.demo.service import Cause, Fix, remedy_sql
from pgcrisis.dsn import Target
from pgcrisis.judge import TriageReport
from pgcrisis.lab.blocking_refresh import PlainRefreshBlocksReaders
from pgcrisis.lab.cache import CALCULATIONS, CachedViewTree
from pgcrisis.lab.jobs import CleanupBacklog, CleanupTooFrequent
from pgcrisis.lab.locks import LeakyRecursiveDelete
from pgcrisis.lab.queries import JitDominatesViewQuery, OrderWorkflowMissingIndex
from pgcrisis.lab.scenario import Metric
from pgcrisis.model.evidence import MissingIndexEvidence, of
from pgcrisis.model.findings import Finding


def is_about(finding: Finding, kind: str, *, name: str | None = None, contains: str = "",
           prefix: str = "", pid: int | None = None) -> bool:
    """Whether ``finding`` is about an object of ``kind`` matching the given name or pid."""
    for obj in finding.objects:
        if obj.kind != kind:
            continue
        text = obj.name or ""
        if ((name is not None and text == name) or (contains and contains in text)
                or (prefix and text.startswith(prefix))
                or (pid is not None and obj.pid == pid)):
            return True
    return False


def _is_sql(statement: str) -> bool:
    """Not a session kill: the demo ends its own faulty sessions; it applies lasting fixes."""
    return "pg_terminate_backend" not in statement and "pg_cancel_backend" not in statement


def _jit(dsn: str, scale: float) -> Cause:
    def choose(report: TriageReport) -> Fix:
        database = [s for s in remedy_sql(report, "jit-overhead")
                    if "ALTER DATABASE" in s and "jit = off" in s]
        return Fix("turn JIT off for the app's database (the least global of the remedies)",
                   tuple(database[:1]))

    return Cause("JIT compilation dominates a view query", "JIT", JitDominatesViewQuery(dsn, scale),
                 ("jit-overhead",), choose, needs=("jit", "pg_stat_statements"),
                 about=lambda f: is_about(f, "query", contains="contact_report"))


def _morning_refreshes(dsn: str, scale: float) -> Cause:
    def choose(report: TriageReport) -> Fix:
        assert report.by_code("refresh-spike"), "triage named no refresh spike"
        return Fix("install a dependency-aware night plan (pgcrisis cache plan --apply): one "
                   "chained run per lane, bases before dependents",
                   night_plan_sql(Target(dsn, "demo"), window="01:00-05:00"))

    return Cause("every cached view refreshes at 09:00", "9am refreshes",
                 CachedViewTree(dsn, scale), ("refresh-spike",), choose, needs=("pg_cron",),
                 about=lambda f: is_about(f, "job", prefix=CachedViewTree.prefix))


def plain_refresh(dsn: str, scale: float) -> Cause:
    def choose(report: TriageReport) -> Fix:
        assert report.by_code("matview-concurrent-unready"), "triage named no unready view"
        return Fix("make the views concurrent-ready (pgcrisis cache prepare --apply): verified "
                   "unique key indexes, so the app refreshes CONCURRENTLY",
                   prepare_sql(Target(dsn, "demo")))

    return Cause("a plain REFRESH blocks every reader of the view tree", "plain REFRESH",
                 PlainRefreshBlocksReaders(dsn, scale),
                 ("matview-blocking-refresh", "matview-concurrent-unready"), choose,
                 fix_order=-1,  # fixed first: the night plan then finds the views ready
                 about=lambda f: is_about(f, "matview", name=f"public.{CALCULATIONS}"))


class _CleanupReads(CleanupBacklog):
    """The cleanup scenario (with the backlog), measured by the rows the job reads in a day."""

    def measure(self) -> Metric:
        return self.measure_reads()


def _cleanup(dsn: str, scale: float) -> Cause:
    def choose(report: TriageReport) -> Fix:
        return Fix("run the cleanup nightly, as triage proposes",
                   remedy_sql(report, "job-too-frequent", keep=_is_sql))

    return Cause("a cleanup job runs every 5 minutes over rows it can never delete",
                 "cleanup job",
                 _CleanupReads(dsn, scale), ("job-too-frequent", "job-backlog"), choose,
                 needs=("pg_cron",),
                 about=lambda f: is_about(f, "job", name=CleanupTooFrequent.jobname))


def _leaky_delete(dsn: str, scale: float) -> Cause:
    scenario = LeakyRecursiveDelete(dsn, levels=60)

    def deploy_fix() -> None:
        scenario.fixed = True

    def choose(report: TriageReport) -> Fix:
        return Fix("deploy the fixed delete: close each level's statement and commit per level "
                   "(the leaking transaction itself was ended)", code_change=deploy_fix)

    return Cause("a recursive delete leaks one open cursor per level", "leaky delete", scenario,
                 ("lock-hoarder",), choose,
                 about=lambda f: is_about(f, "backend", pid=scenario.hoarder_pid))


def _missing_index(dsn: str, scale: float) -> Cause:
    def choose(report: TriageReport) -> Fix:
        found = report.by_code("missing-index")[:1]
        ev = of(found[0].evidence, MissingIndexEvidence) if found else None
        how = ("verified with hypopg" if ev is not None and ev.verified
               else "proposed (unverified: no hypopg)")
        return Fix(f"create the index triage {how}",
                   remedy_sql(report, "missing-index", keep=_is_sql)[:1])

    return Cause("the order-creation workflow misses an index", "missing index",
                 OrderWorkflowMissingIndex(dsn, scale), ("missing-index",), choose,
                 needs=("pg_stat_statements",), degraded_by=("hypopg",),
                 about=lambda f: is_about(f, "relation", name="public.standing_order_items"))


def build_causes(dsn: str, scale: float) -> Sequence[Cause]:
    """Every cause of the seed incident, in the order the write-up tells them."""
    return [
        _jit(dsn, scale),
        _morning_refreshes(dsn, scale),
        plain_refresh(dsn, scale),
        _cleanup(dsn, scale),
        _leaky_delete(dsn, scale),
        _missing_index(dsn, scale),
    ]
