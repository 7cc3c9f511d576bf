"""What the analysis adds up over a whole input, and the summary and notes made of it.

Per node (the analysis updates these fields as each node finishes: attributed time, the
roots' time and buffers, whether times and buffers were seen) and per statement (the
scanner events for ``Execution Time``, JIT, triggers, serialization). Whatever of
``Execution Time`` no node accounts for is executor start-up, AFTER triggers and
serialization; it is reported beside the nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pgcrisis.plan._values import RawValue, num
from pgcrisis.plan.model import Summary, TriggerStat

#: How many plans of a multi-plan input are listed one by one in the notes.
PER_PLAN_LIMIT = 20


@dataclass(slots=True)
class Totals:
    """Sums over every plan of the input, and the figures of the plan being read."""

    plans: int = 0
    analyzed: bool = False
    saw_time: bool = False
    saw_buffers: bool = False
    root_ms: float = 0.0
    root_hit: float = 0.0
    root_read: float = 0.0
    attributed: float = 0.0
    overshoot: float = 0.0
    workers_launched: int = 0
    execution: float | None = None
    planning: float | None = None
    jit_ms: float | None = None
    jit_functions: int | None = None
    jit_workers: float = 0.0
    jit_worker_count: int = 0
    serialization: float = 0.0
    triggers: list[TriggerStat] = field(default_factory=list)
    triggers_ms: float = 0.0
    other_ms: float = 0.0
    per_plan: list[tuple[str, float | None, int]] = field(default_factory=list)
    # the plan being read
    plan_first_node: int = 1
    plan_root_type: str = "?"
    plan_execution: float | None = None
    plan_root_ms: float = 0.0
    plan_triggers: float = 0.0

    def begin_plan(self, first_node: int) -> None:
        """A new statement's plan starts; its first node will have id ``first_node``."""
        self.plans += 1
        self.plan_first_node = first_node
        self.plan_execution = None
        self.plan_root_ms = 0.0
        self.plan_triggers = 0.0

    def end_plan(self, next_node: int) -> None:
        """The statement's plan is complete (its nodes closed); ``next_node`` is the id the
        next node would have."""
        self.triggers_ms += self.plan_triggers
        if len(self.per_plan) < PER_PLAN_LIMIT:
            self.per_plan.append((self.plan_root_type, self.plan_execution,
                                  next_node - self.plan_first_node))
        if self.plan_execution is not None:
            rest = self.plan_execution - self.plan_root_ms - self.plan_triggers
            self.other_ms += max(0.0, rest)

    def plan_value(self, key: str, value: RawValue) -> None:
        """``Planning Time``, ``Execution Time`` (``Total Runtime`` up to 9.3)."""
        if key in ("Execution Time", "Total Runtime"):
            self.plan_execution = num(value)
            self.execution = (self.execution or 0.0) + num(value)
        elif key == "Planning Time":
            self.planning = (self.planning or 0.0) + num(value)

    def worker_jit(self, total_ms: float) -> None:
        """One parallel worker's JIT total."""
        self.jit_workers += total_ms
        self.jit_worker_count += 1

    def jit(self, total_ms: float, functions: int | None) -> None:
        """The statement's JIT summary: the leader's and every worker's, summed."""
        self.jit_ms = (self.jit_ms or 0.0) + total_ms
        if functions is not None:
            self.jit_functions = (self.jit_functions or 0) + functions

    def trigger(self, stat: TriggerStat) -> None:
        """An AFTER trigger's total time."""
        self.triggers.append(stat)
        self.plan_triggers += stat.time_ms

    def serialize(self, time_ms: float) -> None:
        """PostgreSQL 17+: time spent turning rows into the wire format."""
        self.serialization += time_ms

    def summary(self, nodes: int, max_depth: int) -> Summary:
        """The figures of the whole input."""
        other = max(0.0, self.other_ms - self.serialization)
        leader_jit, jit_split = _leader_jit(self.jit_ms, self.jit_workers,
                                            self.jit_worker_count, self.workers_launched)
        return Summary(
            plans=self.plans,
            nodes=nodes,
            max_depth=max_depth,
            analyzed=self.analyzed,
            execution_ms=self.execution,
            planning_ms=self.planning,
            jit_ms=leader_jit,
            jit_total_ms=self.jit_ms,
            jit_workers_ms=None if self.jit_ms is None or leader_jit is None
            else self.jit_ms - leader_jit,
            jit_split=jit_split,
            workers_launched=self.workers_launched,
            jit_functions=self.jit_functions,
            root_ms=self.root_ms,
            triggers_ms=self.triggers_ms,
            serialization_ms=self.serialization,
            other_ms=other,
            bytes_read=int(self.root_read) * 8192,
            shared_hit=int(self.root_hit),
            shared_read=int(self.root_read),
            attributed_ms=self.attributed,
        )

    def notes(self, nodes: int) -> list[str]:
        """What a reader of the figures must know: several plans, time counted twice or
        reported in excess, what the EXPLAIN options left out."""
        notes = []
        if self.plans > 1:
            shown = "; ".join(
                f"#{number} {root}, {count:,} nodes"
                + ("" if execution is None else f", {execution:,.3f} ms")
                for number, (root, execution, count) in enumerate(self.per_plan, 1))
            more = self.plans - len(self.per_plan)
            notes.append(f"{self.plans:,} plans in this input, each analysed (node ids run on "
                         f"from one to the next; totals are their sums): {shown}"
                         + (f"; and {more:,} more" if more > 0 else ""))
        if self.overshoot > max(self.root_ms * 0.01, 0.01):
            notes.append(f"children report {self.overshoot:,.3f} ms more than their parents "
                         f"(timing overhead, rounding): their exclusive times hold it, the "
                         f"summary's shares do not")
        if self.attributed > self.root_ms * 1.001 + 0.01:
            notes.append(f"the nodes' exclusive times add up to "
                         f"{self.attributed / max(self.root_ms, 0.001):.0%} of the root's "
                         f"time: some time is counted twice (please report this plan)")
        if self.analyzed and not self.saw_time:
            notes.append("EXPLAIN (ANALYZE, TIMING OFF): nodes carry row counts but no times, "
                         "so exclusive times are all zero")
        if self.analyzed and not self.saw_buffers:
            notes.append("no BUFFERS: read-efficiency and cache-miss need "
                         "EXPLAIN (ANALYZE, BUFFERS)")
        if not self.analyzed and nodes:
            notes.append("no ANALYZE: estimates only, hot nodes ranked by exclusive cost")
        return notes


def _leader_jit(total: float | None, workers_ms: float, worker_count: int,
                launched: int) -> tuple[float | None, str]:
    """The leader's JIT time, and how it was found.

    The statement's JIT summary adds up the leader's and every worker's compilation, which
    ran at the same time: summed, it can exceed the execution time. With VERBOSE each
    worker's total is printed under its node and is subtracted; without, the leader's
    share is estimated as the average per process.
    """
    if total is None:
        return None, "none"
    if launched == 0:
        return total, "leader"
    if worker_count:
        leader = total - workers_ms
        return (leader if leader > 0.0 else 0.0), "measured"
    return total / (launched + 1), "average"
