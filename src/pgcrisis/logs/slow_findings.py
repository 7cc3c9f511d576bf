"""Findings of the statements the log timed: slow statements per normalized statement and
per view tag (``slow-query``), temporary files per statement (``temp-files``), and the
plans auto_explain wrote, read by the same analyser as ``pgcrisis explain`` (``bad-plan``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace

from pgcrisis import sizes
from pgcrisis.errors import PgcrisisError
from pgcrisis.logs.events import Event, Kind
from pgcrisis.logs.evidence import log_evidence, short, span, statement_ref
from pgcrisis.logs.sessions import grouped
from pgcrisis.logs.statements import normalize, tag_of
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity

#: how many statements (and how many tags) ``slow-query`` lists
TOP = 10
#: a statement logged for less than this in all is not listed (log_min_duration_statement = 0
#: logs every SET)
SLOW_MIN_TOTAL_MS = 10.0
#: temporary files of a statement summing to this much make a warning (else info)
TEMP_WARNING_BYTES = 1 << 30
#: the tips of a plan a finding quotes
PLAN_TIPS = 3
#: the first node line of a text plan (what follows auto_explain's "Query Text:")
_NODE = re.compile(r"^\s*(?:->\s*)?[A-Z][\w ]*.*\((?:cost|actual)=", re.M)


def p95(values: Sequence[float]) -> float:
    """The 95th percentile (nearest rank).

    >>> p95([float(i) for i in range(1, 101)])
    95.0
    """
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def with_statements(events: Sequence[Event]) -> list[Event]:
    """``events`` with each bare duration (log_duration: "duration: 12.3 ms") given the
    statement its session logged before it (log_statement's "statement: ...")."""
    last: dict[int | None, str] = {}
    out = []
    for e in events:
        if e.kind is Kind.STATEMENT:
            last[e.pid] = e.statement
        elif e.kind is Kind.SLOW and not e.statement and e.pid in last:
            out.append(replace(e, statement=last.pop(e.pid)))
            continue
        out.append(e)
    return out


def _figures(group: Sequence[Event]) -> dict[str, float | int]:
    ms = [e.duration_ms or 0.0 for e in group]
    return {"count": len(ms), "total_ms": round(sum(ms), 1), "p95_ms": round(p95(ms), 1),
            "max_ms": round(max(ms), 1)}


def _runs(n: int) -> str:
    return "1 run" if n == 1 else f"{n:,} runs"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n:,} times"


def slow_queries(events: Sequence[Event]) -> list[Finding]:
    """``slow-query`` (info): the statements, then the view tags, by total time logged."""
    timed = [e for e in with_statements(events) if e.kind is Kind.SLOW]
    out = []
    by_statement = grouped(timed, Kind.SLOW, lambda e: normalize(e.statement))
    by_statement.sort(key=lambda g: -sum(e.duration_ms or 0.0 for e in g))
    by_statement = [g for g in by_statement
                    if sum(e.duration_ms or 0.0 for e in g) >= SLOW_MIN_TOTAL_MS]
    for group in by_statement[:TOP]:
        f = _figures(group)
        last = group[-1]
        tags = sorted({tag_of(e.statement) for e in group} - {""})
        out.append(Finding(
            "slow-query", Severity.INFO,
            f"{short(last.statement, 60)}: logged "
            + ("once" if f["count"] == 1 else f"{f['count']:,} times")
            + f" over log_min_duration_statement, {f['total_ms'] / 1000:,.1f} s in all, "
            f"p95 {f['p95_ms']:,.0f} ms",
            f"{short(last.statement, 300)}: {_runs(int(f['count']))} logged {span(group)}, "
            f"{f['total_ms'] / 1000:,.1f} s in total, p95 {f['p95_ms']:,.1f} ms, slowest "
            f"{f['max_ms']:,.1f} ms" + (f"; views: {', '.join(tags)}" if tags else "") + ".",
            (statement_ref(last, last.statement),),
            {**f, "statement": normalize(last.statement), "tags": tags,
             "log": log_evidence(group)},
            Remedy("Read its plan (auto_explain in the log, or EXPLAIN (ANALYZE, BUFFERS) "
                   "read with `pgcrisis explain`)."),
            impact=f["total_ms"] / 1000))
    by_tag = grouped([e for e in timed if tag_of(e.statement)], Kind.SLOW,
                     lambda e: tag_of(e.statement))
    by_tag.sort(key=lambda g: -sum(e.duration_ms or 0.0 for e in g))
    for group in by_tag[:TOP]:
        f = _figures(group)
        tag = tag_of(group[0].statement)
        statements = len({normalize(e.statement) for e in group})
        out.append(Finding(
            "slow-query", Severity.INFO,
            f"view {tag}: {f['count']:,} slow statement{'s' * (f['count'] != 1)} logged, "
            f"{f['total_ms'] / 1000:,.1f} s in all, p95 {f['p95_ms']:,.0f} ms",
            f"The statements tagged view {tag} ({statements} distinct) were logged "
            f"{_times(int(f['count']))} {span(group)}: {f['total_ms'] / 1000:,.1f} s in total, "
            f"p95 {f['p95_ms']:,.1f} ms, slowest {f['max_ms']:,.1f} ms.",
            (ObjectRef.client(group[-1].record.application or "?", None,
                              name=f"view {tag}"),),
            {**f, "tag": tag, "statements": statements, "log": log_evidence(group)},
            Remedy("Look at the view's slowest statement first (slow-query of the same "
                   "statement)."),
            impact=f["total_ms"] / 1000))
    return out


def temp_files(events: Sequence[Event]) -> list[Finding]:
    """``temp-files``: temporary files over log_temp_files, per statement."""
    out = []
    for group in grouped(events, Kind.TEMP_FILE, lambda e: normalize(e.statement)):
        total = sum(e.bytes or 0 for e in group)
        biggest = max(e.bytes or 0 for e in group)
        last = group[-1]
        n = len(group)
        out.append(Finding(
            "temp-files", Severity.WARNING if total >= TEMP_WARNING_BYTES else Severity.INFO,
            f"{short(last.statement, 60)} wrote {n:,} temporary file{'s' * (n != 1)}, "
            f"{sizes.words(total)} in all, {span(group)}",
            f"{short(last.statement, 300)}: {n:,} temporary files, the biggest "
            f"{sizes.words(biggest)}, {sizes.words(total)} in all: a sort or hash that did "
            "not fit in work_mem spilled to disk.",
            (statement_ref(last, last.statement),),
            {"files": n, "bytes": total, "max_bytes": biggest,
             "statement": normalize(last.statement), "tag": tag_of(last.statement),
             "log": log_evidence(group)},
            Remedy(f"Raise work_mem for this statement's session (SET work_mem = "
                   f"'{sizes.setting_above(biggest)}') or make it sort/hash less (an index "
                   "in the sort's order, fewer rows)."),
            impact=total / 1e9))
    return out


def plan_text(event: Event) -> str:
    """The plan of an auto_explain event without its "Query Text" (JSON as written)."""
    body = event.plan.lstrip()
    if body.startswith("{") or body.startswith("["):
        return body
    node = _NODE.search(body)
    return body[node.start():] if node else body


def bad_plans(events: Sequence[Event]) -> list[Finding]:
    """``bad-plan``: the slowest logged plan of each statement, with its top tips."""
    from pgcrisis.plan import analyse_bytes  # the analyser, loaded only when plans are logged

    out = []
    for group in grouped(events, Kind.PLAN, lambda e: normalize(e.statement)):
        worst = max(group, key=lambda e: e.duration_ms or 0.0)
        try:
            analysis = analyse_bytes(plan_text(worst).encode(), name="auto_explain")
        except (PgcrisisError, ValueError):
            continue
        tips = sorted(analysis.tips, key=lambda t: (t.severity.rank, -t.saving_ms))[:PLAN_TIPS]
        if not tips:
            continue
        tag = tag_of(worst.statement)
        severity = min((t.severity for t in tips), key=lambda s: s.rank)
        out.append(Finding(
            "bad-plan", Severity.WARNING if severity is Severity.CRITICAL else severity,
            f"{short(worst.statement, 60)}: {tips[0].title} (auto_explain, "
            f"{worst.duration_ms or 0:,.0f} ms)",
            f"The slowest of {len(group):,} plans auto_explain logged for "
            f"{short(worst.statement, 200)}" + (f" (view {tag})" if tag else "")
            + f", {worst.duration_ms or 0:,.1f} ms: "
            + " ".join(f"{t.title}: {t.detail}" for t in tips),
            (statement_ref(worst, worst.statement),),
            {"plans": len(group), "duration_ms": worst.duration_ms, "tag": tag,
             "statement": normalize(worst.statement),
             "tips": [{"code": t.code, "severity": t.severity.value, "title": t.title,
                       "saving_ms": t.saving_ms, "sql": list(t.sql)} for t in tips],
             "log": log_evidence([worst])},
            Remedy(tips[0].detail if not tips[0].sql else f"{tips[0].title}: "
                   + "; ".join(tips[0].sql)),
            impact=(worst.duration_ms or 0.0) / 1000))
    return out
