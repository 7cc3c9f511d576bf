"""caused_by: one root, its consequences beneath it (JSON indexes, terminal, Markdown)."""

from __future__ import annotations

import io
import json
import time

from rich.console import Console

from pgcrisis.checks.causes import link, tree
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.findings import Finding, ObjectRef, Severity
from pgcrisis.presentation import triage_json, triage_markdown, triage_terminal
from tests.helpers import only, triage
from tests.scenarios.health import SnapshotHoldsVacuum


def test_idle_transaction_is_the_root_of_the_lock_chain_and_of_the_bloat(db: str) -> None:
    with SnapshotHoldsVacuum(db, scale=0.3, blocked=True) as lab:
        time.sleep(0.3)
        report = triage(db, Thresholds(long_transaction_s=0.2, idle_blocking_min_s=0.2))
    idle = only(report, "idle-in-transaction")
    lock = only(report, "blocking-lock")
    # the waiting writer's transaction is old enough for this low threshold too: take the holder's
    [horizon] = [f for f in report.by_code("long-transaction")
                 if f.objects[0].pid == lab.holder_pid]
    bloat = only(report, "table-bloat")
    assert idle.objects[0].pid == lock.objects[0].pid == lab.holder_pid
    assert report.causes_of(idle) == []
    assert report.causes_of(lock) == [idle]
    assert report.causes_of(horizon) == [idle]
    assert report.causes_of(bloat) == [horizon]

    # JSON: indexes into findings, in rank order (the blocking-lock still ranks first)
    doc = json.loads(triage_json.render(report))
    codes = [f["code"] for f in doc["findings"]]
    by_code = {f["code"]: f for f in doc["findings"]}
    assert by_code["blocking-lock"]["caused_by"] == [codes.index("idle-in-transaction")]
    assert by_code["table-bloat"]["caused_by"] == [codes.index("long-transaction")]
    assert "caused_by" not in by_code["idle-in-transaction"]

    # print order: the root first, every consequence beneath it, deeper ones indented further
    order = [(report.findings[i].code, depth) for i, depth in report.tree()]
    assert order[0] == ("idle-in-transaction", 0)
    assert ("blocking-lock", 1) in order and ("long-transaction", 1) in order
    assert ("table-bloat", 2) in order
    assert order.index(("table-bloat", 2)) > order.index(("long-transaction", 1))

    markdown = triage_markdown.render(report)
    assert "| 1 | 🟠 WARNING | `idle-in-transaction`" in markdown
    assert "consequence of #1" in markdown

    out = io.StringIO()
    triage_terminal.render(report, Console(file=out, width=120, color_system=None))
    text = out.getvalue()
    assert "consequence of #1" in text
    assert text.index("idle-in-transaction") < text.index("blocking-lock")


def _f(code: str, *objects: ObjectRef) -> Finding:
    return Finding(code, Severity.WARNING, code, "", objects)


def test_link_prefers_the_first_cause_code_and_never_loops() -> None:
    backend = ObjectRef("backend", pid=7)
    findings = [
        _f("blocking-lock", backend),
        _f("long-transaction", backend),
        _f("idle-in-transaction", backend),
        _f("table-bloat", ObjectRef("relation", name="public.t"), backend),
        _f("slow-query", ObjectRef("query", queryid=42)),
        _f("missing-index", ObjectRef("relation", name="public.t"),
           ObjectRef("query", queryid=42)),
        _f("table-bloat", ObjectRef("relation", name="public.u")),
    ]
    caused_by = link(findings)
    assert caused_by == ((2,), (2,), (), (1,), (5,), (), ())
    assert [(i, d) for i, d in tree(findings, caused_by)] == [
        (2, 0), (0, 1), (1, 1), (3, 2), (5, 0), (4, 1), (6, 0)]


def test_findings_in_different_databases_are_not_linked() -> None:
    db = ObjectRef("database", name="a")
    other = ObjectRef("database", name="b")
    findings = [_f("slow-query", ObjectRef("query", queryid=1), db),
                _f("missing-index", ObjectRef("query", queryid=1), other)]
    assert link(findings) == ((), ())
