"""slow-query (info): the statements that take most of the database's execution time.

Not a fault on its own: the list a DBA reads first to know where the time goes, with calls,
mean time and share. A statement that another finding explains (a missing index, JIT) is
linked to it as its consequence.
"""

from __future__ import annotations

from collections.abc import Iterable

from pgcrisis import shorten
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.snapshot import Snapshot


@check("slow-query", needs=("statements",))
def slow_query(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Top statements by total execution time, with mean, calls and share."""
    total = snapshot.statements.db_total_exec_ms
    ranked = sorted(snapshot.statements.rows, key=lambda s: -s.total_exec_ms)
    for st in ranked[: t.slow_query_top]:
        share = st.total_exec_ms / total if total > 0 else 0.0
        if st.total_exec_ms < t.slow_query_min_ms or share < t.slow_query_min_share:
            continue
        name = shorten.query(st.query, 60)
        yield Finding(
            code="slow-query",
            severity=Severity.INFO,
            title=(f"{st.label} takes {share:.0%} of the statement time: "
                   f"{st.calls:,} calls, {st.mean_exec_ms:,.1f} ms on average"),
            detail=(f"{name}: {st.total_exec_ms / 1000:,.1f} s in total over {st.calls:,} "
                    f"calls, {st.rows / max(st.calls, 1):,.1f} rows per call, "
                    f"{st.shared_blks_read:,} blocks read from outside shared buffers."),
            objects=(ObjectRef("query", queryid=st.queryid, name=name),),
            evidence={"queryid": st.queryid, "calls": st.calls,
                      "total_ms": round(st.total_exec_ms, 1),
                      "mean_ms": round(st.mean_exec_ms, 2), "share": round(share, 3),
                      "rows": st.rows, "role": st.role},
            remedy=Remedy("Look at its plan: EXPLAIN (ANALYZE, BUFFERS) it with typical "
                          "values and read it with `pgcrisis explain`."),
            impact=st.total_exec_ms / 1000,
        )
