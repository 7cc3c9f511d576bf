"""The demo's figures are measurements: a fix that does not work is reported as not improved,
and a cause is named only by a finding about the object it injected."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pgcrisis.demo.incident import is_about, plain_refresh
from pgcrisis.demo.service import Cause, Fix, run_demo
from pgcrisis.embedded import EmbeddedServer
from pgcrisis.judge import TriageReport
from pgcrisis.lab.scenario import Metric
from pgcrisis.model.findings import Finding, ObjectRef, Severity
from pgcrisis.server_binaries import Missing
from tests.helpers import PgServer

#: after `cache prepare`, swap the view's key for a partial unique index: an app that only
#: checks for "a unique index" refreshes CONCURRENTLY, which PostgreSQL then refuses
BREAK_CONCURRENT_REFRESH = (
    "DROP INDEX mv_customer_totals_customer_id_key",
    "CREATE UNIQUE INDEX mv_customer_totals_partial_key ON mv_customer_totals (customer_id)"
    " WHERE customer_id > 0",
)


class Recorder:
    """A DemoObserver that keeps what the demo said."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, title: str) -> None:
        self.lines.append(title)

    def info(self, text: str) -> None:
        self.lines.append(text)

    def not_replayed(self, cause: Cause, missing: Missing) -> None:
        self.lines.append(f"not replayed: {cause.label}")

    def degraded(self, cause: Cause, missing: Missing) -> None:
        self.lines.append(f"weaker: {cause.label}")

    def triaged(self, report: TriageReport) -> None:
        self.lines.append(f"{len(report.findings)} findings")

    def applying(self, cause: Cause, fix: Fix) -> None:
        self.lines.append(fix.summary)

    def sql(self, statement: str) -> None:
        self.lines.append(statement)

    def measured(self, cause: Cause, phase: str, metric: Metric) -> None:
        self.lines.append(f"{phase}: {metric.value} {metric.error}")

    def recorded(self, past: object, causes: object) -> None:
        self.lines.append("recorded")


@pytest.fixture
def server(pg: PgServer) -> Iterator[EmbeddedServer]:
    """A demo server of the suite's kind (the demo builds its app in it)."""
    kind = pg.embedded.binaries.source if pg.embedded and pg.embedded.binaries else "auto"
    directory = Path(tempfile.mkdtemp(prefix="pgcrisis-demo-test-"))
    directory.chmod(0o755)
    with EmbeddedServer(directory=directory / "c", backend=kind) as started:
        yield started
    shutil.rmtree(directory, ignore_errors=True)


def _sabotaged(dsn: str, scale: float) -> list[Cause]:
    cause = plain_refresh(dsn, scale)
    choose = cause.choose_fix

    def broken(report: TriageReport) -> Fix:
        fix = choose(report)
        return replace(fix, sql=(*fix.sql, *BREAK_CONCURRENT_REFRESH))

    cause.choose_fix = broken
    return [cause]


@pytest.mark.slow
def test_a_concurrent_refresh_that_fails_is_reported_not_improved(
        server: EmbeddedServer, tmp_path: Path) -> None:
    result = run_demo(server, _sabotaged, Recorder(), scale=0.2,
                      journal=tmp_path / "journal.jsonl")
    (cause,) = result.causes
    assert set(cause.named) == {"matview-blocking-refresh", "matview-concurrent-unready"}
    assert cause.before is not None and cause.before.error is None
    assert cause.before.value > 0, "a plain refresh really made the reader wait"
    assert cause.after is not None
    assert cause.after.error is not None and "the refresh failed" in cause.after.error
    assert "concurrently" in cause.after.error.lower()
    assert not cause.improved
    assert not result.all_improved


def _finding(*objects: ObjectRef) -> Finding:
    return Finding("lock-hoarder", Severity.WARNING, "t", "d", objects)


def test_a_cause_is_named_only_by_a_finding_about_its_object() -> None:
    about_it = _finding(ObjectRef("backend", pid=42, name="workflow-engine"))
    about_another = _finding(ObjectRef("backend", pid=7, name="workflow-engine"))
    assert is_about(about_it, "backend", pid=42)
    assert not is_about(about_another, "backend", pid=42)
    view = _finding(ObjectRef("matview", name="public.mv_region_summary"))
    assert not is_about(view, "matview", name="public.mv_customer_totals")
    assert is_about(view, "matview", name="public.mv_region_summary")
