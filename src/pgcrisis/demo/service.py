"""The demo: the seed incident replayed on an embedded server, diagnosed, fixed, measured.

Each cause of the incident is a lab scenario. The demo builds the app, injects every fault,
proves each real (self-check), lets simulated users feel it, runs triage, checks that triage
named every cause, applies each remedy as an explicit, shown, journaled action, and measures
each symptom again. Nothing here prints: progress goes to a :class:`DemoObserver`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pgcrisis import journal as journaling
from pgcrisis.demo.recording import DemoRecorder, PastTriage, judge_recording
from pgcrisis.dsn import Target
from pgcrisis.embedded import EmbeddedServer
from pgcrisis.judge import TriageReport
from pgcrisis.lab.app import AppSize, create_app
from pgcrisis.lab.scenario import Metric, Scenario, admin_connect, wait_until
from pgcrisis.model.findings import Finding
from pgcrisis.server_binaries import Missing
from pgcrisis.triage import run_triage


@dataclass(frozen=True, slots=True)
class Fix:
    """What the demo does about one cause: SQL to apply and/or a code change to deploy."""

    summary: str
    sql: tuple[str, ...] = ()
    code_change: Callable[[], None] | None = None


@dataclass
class Cause:
    """One cause of the incident: its scenario, the findings that must name it, its fix.

    ``label`` tells the cause in a sentence; ``short`` names it in tables. ``needs`` are the
    optional server pieces without which the cause cannot be replayed at all (no pg_cron, no
    scheduled jobs); ``degraded_by`` are pieces whose absence only weakens the evidence (no
    hypopg: index advice is shown unverified).
    """

    label: str
    short: str
    scenario: Scenario
    codes: tuple[str, ...]
    choose_fix: Callable[[TriageReport], Fix]
    fix_order: int = 0  # fixes are applied by this, then in list order
    #: whether a finding is about the object this cause injected (a finding of the right
    #: code about something else does not name the cause)
    about: Callable[[Finding], bool] = lambda finding: True
    needs: tuple[str, ...] = ()
    degraded_by: tuple[str, ...] = ()
    before: Metric | None = None
    after: Metric | None = None
    named: dict[str, Finding] = field(default_factory=dict)
    named_past: dict[str, Finding] = field(default_factory=dict)

    @property
    def improved(self) -> bool:
        return (self.before is not None and self.after is not None
                and self.after.improved_over(self.before))


class DemoObserver(Protocol):
    """What the demo reports as it goes (the CLI draws it)."""

    def step(self, title: str) -> None: ...
    def info(self, text: str) -> None: ...
    def not_replayed(self, cause: Cause, missing: Missing) -> None: ...
    def degraded(self, cause: Cause, missing: Missing) -> None: ...
    def triaged(self, report: TriageReport) -> None: ...
    def applying(self, cause: Cause, fix: Fix) -> None: ...
    def sql(self, statement: str) -> None: ...
    def measured(self, cause: Cause, phase: str, metric: Metric) -> None: ...
    def recorded(self, past: PastTriage, causes: Sequence[Cause]) -> None: ...


@dataclass
class DemoResult:
    """Everything the demo measured; ``causes`` are the replayed ones, ``not_replayed`` the
    causes this server could not host, each with the piece it lacks."""

    causes: list[Cause]
    report: TriageReport
    size: AppSize
    seconds: float
    journal: Path
    fixes: dict[str, Fix] = field(default_factory=dict)
    not_replayed: list[tuple[Cause, Missing]] = field(default_factory=list)
    #: every piece the server lacks (also those that only weaken a replayed cause's evidence)
    missing: tuple[Missing, ...] = ()
    #: triage of the worst moment of the recording made while the incident was replayed
    past: PastTriage | None = None

    @property
    def past_named_all(self) -> bool:
        """Whether triage of the recording named every cause the live triage named."""
        return self.past is None or all(set(c.named) <= set(c.named_past)
                                        for c in self.causes)

    @property
    def all_named(self) -> bool:
        return all(len(c.named) == len(c.codes) for c in self.causes)

    @property
    def all_improved(self) -> bool:
        return all(c.improved for c in self.causes)


def split_by_server(causes: Sequence[Cause], missing: Sequence[Missing],
                    ) -> tuple[list[Cause], list[tuple[Cause, Missing]]]:
    """The causes this server can replay, and those it cannot with the first piece lacking."""
    lacking = {m.piece: m for m in missing}
    replayed: list[Cause] = []
    skipped: list[tuple[Cause, Missing]] = []
    for cause in causes:
        absent = [lacking[piece] for piece in cause.needs if piece in lacking]
        if absent:
            skipped.append((cause, absent[0]))
        else:
            replayed.append(cause)
    return replayed, skipped


def remedy_sql(report: TriageReport, code: str, *, keep: Callable[[str], bool] = lambda s: True,
               ) -> tuple[str, ...]:
    """The remedy statements of every ``code`` finding, in rank order, filtered by ``keep``."""
    out: list[str] = []
    for finding in report.by_code(code):
        if finding.remedy is not None:
            out.extend(s for s in finding.remedy.sql if keep(s) and s not in out)
    return tuple(out)


def run_demo(server: EmbeddedServer, build: Callable[[str, float], Sequence[Cause]],
             observer: DemoObserver, *, scale: float = 1.0,
             journal: Path | None = None, recording: Path | None = None) -> DemoResult:
    """Replay, diagnose, fix and measure; returns the figures for the before/after table.
    With ``recording``, ``pgcrisis record`` runs while the incident is replayed, and the
    worst recorded moment is triaged once the faults are gone."""
    started = time.perf_counter()
    journal = journal or journaling.journal_path()
    size = _build_app(server, observer, scale)
    causes, not_replayed = split_by_server(build(server.dsn, scale), server.missing)
    report, recorded = _replay(server, causes, not_replayed, observer, recording)
    observer.step("Measuring each symptom before the fix")
    for cause in causes:
        cause.before = cause.scenario.measure()
        observer.measured(cause, "before", cause.before)
    fixes = _apply_fixes(server.dsn, causes, report, observer, journal)
    observer.step("Measuring each symptom after the fix")
    for cause in causes:
        cause.after = cause.scenario.measure()
        observer.measured(cause, "after", cause.after)
    past = None
    if recording is not None:
        observer.step("pgcrisis triage --at the worst recorded moment (the faults are gone)")
        past = judge_recording(recording, *recorded)
        if past is not None:
            for cause in causes:
                cause.named_past.update(_naming(cause, past.report))
            observer.recorded(past, causes)
    return DemoResult(causes, report, size, time.perf_counter() - started, journal, fixes,
                      not_replayed, tuple(server.missing), past)


def _build_app(server: EmbeddedServer, observer: DemoObserver, scale: float) -> AppSize:
    """The order-management app, with every extension the server has that a cause uses."""
    observer.step("Building the order-management app")
    with admin_connect(server.dsn) as conn:
        for ext in ("pg_stat_statements", "pg_cron", "hypopg"):
            if ext not in server.unavailable:
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}".encode())
        size = create_app(conn, scale)
    observer.info(f"{size.customers:,} customers, {size.orders:,} orders, "
                  f"{size.orders * size.items_per_order:,} order items, "
                  f"{size.standing_items:,} standing order items, "
                  f"{size.audit_rows:,} audit rows")
    return size


def _naming(cause: Cause, report: TriageReport) -> dict[str, Finding]:
    """For each of the cause's codes that ``report`` has a finding about the cause, the first."""
    named: dict[str, Finding] = {}
    for code in cause.codes:
        found = [f for f in report.by_code(code) if cause.about(f)]
        if found:
            named[code] = found[0]
    return named


def _replay(server: EmbeddedServer, causes: Sequence[Cause],
            not_replayed: Sequence[tuple[Cause, Missing]], observer: DemoObserver,
            recording: Path | None,
            ) -> tuple[TriageReport, tuple[datetime, datetime, datetime]]:
    """Inject every fault (each proven real), triage the seized-up server, then stop the
    faults; the report, and the window ``pgcrisis record`` recorded (with ``recording``):
    its start, its end, and the worst moment (every fault in, every part read then)."""
    lacking = {m.piece: m for m in server.missing}
    observer.step("Replaying the incident: injecting each fault and proving it real")
    for cause, missing in not_replayed:
        observer.not_replayed(cause, missing)
    for cause in causes:
        for piece in cause.degraded_by:
            if piece in lacking:
                observer.degraded(cause, lacking[piece])
    for cause in causes:
        cause.scenario.setup()
    recorder = DemoRecorder(server.dsn, recording).start() if recording is not None else None
    recorded_from = at_worst = datetime.now(UTC)
    try:
        for cause in causes:
            cause.scenario.inject()
            cause.scenario.self_check()
            if recorder is not None:  # every part read with this fault in
                recorder.request_full()
            observer.info(f"✓ {cause.label}")
        observer.step("pgcrisis triage (read-only, while the server is seized up)")
        report = run_triage(Target(server.dsn, "demo"))
        for cause in causes:
            cause.named.update(_naming(cause, report))
        observer.triaged(report)
        if recorder is not None:  # the worst moment: every fault in and proven
            at_worst = recorder.full_sample()
    finally:
        for cause in causes:
            cause.scenario.stop()
        if recorder is not None:
            seen = recorder.frames()
            wait_until(lambda: recorder.frames() >= seen + 2, what="the recorder")
            recorder.stop()
    return report, (recorded_from, datetime.now(UTC), at_worst)


def _apply_fixes(dsn: str, causes: Sequence[Cause], report: TriageReport,
                 observer: DemoObserver, journal: Path) -> dict[str, Fix]:
    """Choose each cause's fix from the report and apply it (SQL shown, then journaled; a
    code change deployed), in fix order; the fixes by cause."""
    observer.step("Applying the remedies (shown, then journaled)")
    fixes: dict[str, Fix] = {}
    with admin_connect(dsn, application_name="pgcrisis-apply") as conn:
        for cause in sorted(causes, key=lambda c: c.fix_order):
            fix = cause.choose_fix(report)
            fixes[cause.short] = fix
            observer.applying(cause, fix)
            if fix.sql:
                results = journaling.apply(conn, fix.sql, reason=f"demo: {cause.label}",
                                           show=observer.sql, journal=journal)
                failed = [r for r in results if not r.ok]
                if failed:
                    observer.info(f"✗ {failed[0].sql}: {failed[0].error}")
            if fix.code_change is not None:
                fix.code_change()
    return fixes
