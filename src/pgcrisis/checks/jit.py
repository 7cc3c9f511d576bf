"""JIT checks: jit-overhead.

JIT compiles a statement's expressions to machine code once its plan cost passes
``jit_above_cost`` (inlining and optimisation past ``jit_inline_above_cost`` and
``jit_optimize_above_cost``). Compiling happens inside execution, for every execution. For a
query with many expressions whose cost estimate is high but whose real work is small
(complex views, misestimated joins), compiling takes longer than running: the seed incident's
50 s query spent 47 s in JIT, and turning JIT off halved the load on the database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from pgcrisis import shorten
from pgcrisis.actions import SetSetting
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.model.statements import Statement


def _above(cost: float) -> int:
    """A round ``jit_above_cost`` comfortably above ``cost`` (two significant digits).

    >>> _above(537218.9), _above(90.0), _above(1_000_000)
    (650000, 110, 1200000)
    """
    target = max(cost * 1.2, 1.0)
    step = 10 ** max(math.floor(math.log10(target)) - 1, 0)
    return int(math.ceil(target / step) * step)


def _remedy(snapshot: Snapshot, st: Statement) -> Remedy:
    """Turn JIT off (server, database or role), or raise jit_above_cost above this plan."""
    server = snapshot.server
    current = server.setting_int("jit_above_cost", 100000)
    if st.plan_cost is not None:
        above = _above(st.plan_cost)
        why = f"above this statement's plan cost ({st.plan_cost:,.0f})"
    else:
        above = max(current, 1) * 10
        why = f"ten times the current {current:,} (this statement's plan cost is not known)"
    options = [
        SetSetting("jit", "off"),
        SetSetting("jit", "off", "database", server.database,
                   option="only for this database (new sessions)"),
    ]
    if st.role:
        options.append(SetSetting("jit", "off", "role", st.role,
                                  option=f"only for role {st.role} (new sessions)"))
    options.append(SetSetting("jit_above_cost", above, "database", server.database,
                              option=f"keep JIT for costlier queries: jit_above_cost {why}"))
    return Remedy(
        summary=("Turn JIT off: server-wide at once (ALTER SYSTEM + reload), or for this "
                 "database or role (new sessions); or raise jit_above_cost to "
                 f"{above:,} ({why}) so that only costlier queries are compiled."),
        actions=tuple(options),
    )


@check("jit-overhead", needs=("statements",), min_version=150000)
def jit_overhead(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """JIT compilation is a large share of a statement's execution time."""
    if not snapshot.statements.has_jit_columns:
        return
    for st in snapshot.statements.rows:
        share, lost = st.jit_share, st.jit_ms
        if lost < t.jit_min_ms or share < t.jit_min_share:
            continue
        critical = share >= t.jit_critical_share
        name = shorten.query(st.query, 60)
        per_call = lost / max(st.calls, 1)
        cost = f"; plan cost {st.plan_cost:,.0f}" if st.plan_cost is not None else ""
        settings = snapshot.server.settings
        yield Finding(
            code="jit-overhead",
            severity=Severity.CRITICAL if critical else Severity.WARNING,
            title=(f"JIT takes {share:.0%} of query {st.queryid} ({lost / 1000:,.1f} s of "
                   f"{st.total_exec_ms / 1000:,.1f} s over {st.calls:,} calls): {name}"),
            detail=(
                f"Compiling this statement with JIT took {per_call:,.0f} ms per call out of "
                f"{st.mean_exec_ms:,.0f} ms (generation {st.jit_generation_ms:,.0f} ms, "
                f"inlining {st.jit_inlining_ms:,.0f} ms, optimisation "
                f"{st.jit_optimization_ms:,.0f} ms, emission {st.jit_emission_ms:,.0f} ms in "
                f"total over {st.calls:,} calls{cost}). jit_above_cost is "
                f"{settings.get('jit_above_cost', '?')}, jit_optimize_above_cost "
                f"{settings.get('jit_optimize_above_cost', '?')}: "
                "the planner's estimate passes them, yet the statement runs faster than it "
                "compiles. Without JIT it would take about "
                f"{(st.total_exec_ms - lost) / max(st.calls, 1):,.0f} ms per call."
            ),
            objects=(ObjectRef("query", name=name, queryid=st.queryid),
                     ObjectRef("setting", name="jit")),
            evidence={
                "calls": st.calls,
                "total_exec_ms": round(st.total_exec_ms, 1),
                "mean_exec_ms": round(st.mean_exec_ms, 1),
                "jit_ms": round(lost, 1),
                "jit_share": round(share, 3),
                "jit_ms_per_call": round(per_call, 1),
                "jit_functions": st.jit_functions,
                "jit_generation_ms": round(st.jit_generation_ms, 1),
                "jit_inlining_ms": round(st.jit_inlining_ms, 1),
                "jit_optimization_ms": round(st.jit_optimization_ms, 1),
                "jit_emission_ms": round(st.jit_emission_ms, 1),
                "plan_cost": None if st.plan_cost is None else round(st.plan_cost, 1),
                "jit_above_cost": snapshot.server.setting_int("jit_above_cost", -1),
                "role": st.role,
            },
            remedy=_remedy(snapshot, st),
            impact=lost / 1000,
        )
