"""The demo on a terminal: numbered steps, shown SQL, what was not replayed, and the closing
tables (causes named, before/after with where each figure came from). Draws only."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pgcrisis.demo.recording import BUCKET_S, PastTriage
from pgcrisis.demo.service import Cause, DemoResult, Fix
from pgcrisis.history.timeline import ROWS, sparkline
from pgcrisis.judge import TriageReport
from pgcrisis.lab.scenario import Metric
from pgcrisis.presentation import triage_terminal
from pgcrisis.quantities import figure
from pgcrisis.server_binaries import Missing, combined_command
from pgcrisis.when import shown

#: the demo's picture: the timeline's rows that move within seconds
PICTURE = tuple(row for row in ROWS if row[1] in ("active", "waiting", "refreshing"))


def _joined(parts: list[Text]) -> list[Text | str]:
    out: list[Text | str] = []
    for i, part in enumerate(parts):
        out += [", "] if i else []
        out.append(part)
    return out


class ConsoleObserver:
    """Draws the demo's progress: numbered steps with elapsed time, shown SQL, measurements."""

    def __init__(self, console: Console, panels: int | None) -> None:
        self.console = console
        self.panels = panels
        self.started = time.perf_counter()
        self.n = 0

    def _elapsed(self) -> str:
        return f"{time.perf_counter() - self.started:5.1f}s"

    def step(self, title: str) -> None:
        self.n += 1
        self.console.print(Text.assemble(("\n" + self._elapsed() + " ", "dim"),
                                         (f"[{self.n}] {title}", "bold cyan")))

    def info(self, text: str) -> None:
        # never wrapped: a log or a pipe gets the whole line (paths, DSNs, commands)
        self.console.print(f"       {text}", soft_wrap=True)

    def not_replayed(self, cause: Cause, missing: Missing) -> None:
        self.console.print(Text.assemble(
            "       ", ("– not replayed: ", "yellow"), (cause.label, "bold"),
            f" (needs {missing.piece}: {missing.reason}; to enable: ",
            (missing.enable, "bold"), ")"), soft_wrap=True)

    def degraded(self, cause: Cause, missing: Missing) -> None:
        self.console.print(Text.assemble(
            "       ", ("– weaker: ", "yellow"), (cause.label, "bold"),
            f" (no {missing.piece}: its advice is shown unverified; to enable: ",
            (missing.enable, "bold"), ")"), soft_wrap=True)

    def recorded(self, past: PastTriage, causes: Sequence[Cause]) -> None:
        self.console.print(Text.assemble(
            "       ", (f"{past.frames} samples recorded; the worst moment, ", "dim"),
            (shown(past.at), "bold"), (", judged by the same checks:", "dim")),
            soft_wrap=True)
        for cause in causes:
            codes = [(code, code in cause.named_past) for code in cause.named]
            marks = [Text(f"{'✓' if ok else '✗'} {code}", style="green" if ok else "red")
                     for code, ok in codes]
            self.console.print(Text.assemble("         ", (f"{cause.short}: ", "bold"),
                                             *_joined(marks)), soft_wrap=True)
        width = max(len(label) for label, _, _ in PICTURE)
        self.console.print(Text(f"       every {BUCKET_S} s, scaled to each row's peak:",
                                style="dim"))
        for label, attribute, unit in PICTURE:
            values = [float(getattr(m, attribute)) for m in past.picture]
            top = max(values, default=0)
            self.console.print(Text.assemble(
                f"         {label:<{width}}  ", (sparkline(values), "cyan"),
                (f"  peak {top:,.0f}{' ' + unit if unit else ''}", "dim")), soft_wrap=True)

    def triaged(self, report: TriageReport) -> None:
        triage_terminal.render(report, self.console, panels=self.panels)

    def applying(self, cause: Cause, fix: Fix) -> None:
        self.console.print(Text.assemble("       ", ("→ ", "green"), (cause.label, "bold"),
                                         ": ", fix.summary))

    def sql(self, statement: str) -> None:
        lines = [line for line in statement.rstrip().rstrip(";").splitlines()
                 if line.strip() and not line.lstrip().startswith("--")]
        if len(lines) > 4:
            lines = [*lines[:2], f"  … {len(lines) - 2} more lines"]
        for i, line in enumerate(lines):
            end = ";" if i == len(lines) - 1 and not line.startswith("  …") else ""
            self.console.print(Text("         " + line + end, style="yellow"))

    def measured(self, cause: Cause, phase: str, metric: Metric) -> None:
        self.console.print(Text.assemble("       ", (f"{cause.short}: ", "bold"),
                                         f"{metric.label} = {_fmt(metric)}"))


def _fmt(metric: Metric) -> str:
    """A measured figure as the demo prints it.

    >>> _fmt(Metric("wait", "ms", 1.0)), _fmt(Metric("wait", "ms", 2.5))
    ('1 ms', '2.5 ms')
    >>> _fmt(Metric("locks held", "locks", 1.0)), _fmt(Metric("locks held", "locks", 1234.0))
    ('1 lock', '1,234 locks')
    """
    return figure(metric.value, metric.unit, precise_below=100, singular=True)


def _change(before: Metric, after: Metric) -> Text:
    failed = after.error or before.error
    if failed:
        return Text(f"✗ not measured: {failed}", style="red")
    if before.value == 0:
        return Text("—")
    ratio = after.value / before.value
    good = after.improved_over(before)
    if ratio < 1:
        label = f"{before.value / after.value:,.0f}x lower" if after.value else "gone"
    else:
        label = f"{ratio:,.1f}x higher"
    if not good and ratio < 1:
        label += f" (not the {after.min_ratio:g}x an improvement needs)"
    return Text(("✓ " if good else "✗ ") + label, style="green" if good else "red")


def _bar(before: Metric, after: Metric, width: int = 16) -> Text:
    """After as a share of before: a full bar is "as bad as before"."""
    share = after.value / before.value if before.value else 1.0
    filled = min(width, max(0, round(share * width)))
    style = "green" if after.improved_over(before) else "red"
    if after.error or before.error:
        return Text("?" * width, style="red")
    return Text("█" * filled + "░" * (width - filled), style=style)


def summary(console: Console, result: DemoResult) -> None:
    named = Table(title="Causes named by triage", title_justify="left", show_lines=False)
    for col in ("cause", "finding", "about"):
        named.add_column(col)
    for cause in result.causes:
        for code in cause.codes:
            finding = cause.named.get(code)
            if finding is None:
                named.add_row(cause.short, Text(f"✗ {code} missing", style="red"), "")
                continue
            obj = finding.objects[0]
            about = f"{obj.kind} " + (f"pid {obj.pid}" if obj.pid is not None else
                                      f"#{obj.id} {obj.name or ''}" if obj.id is not None
                                      else obj.name or "")
            named.add_row(cause.short, Text(f"✓ {code} ({finding.severity.value})",
                                            style="green"), about.strip())
    console.print(named)
    table = Table(title="Before / after", title_justify="left")
    for col in ("cause", "metric", "before", "after", "after ÷ before", "change", "source"):
        table.add_column(col, justify="right" if col in ("before", "after") else "left",
                         no_wrap=col not in ("metric", "source", "change"))
    for cause in result.causes:
        if cause.before is None or cause.after is None:
            continue
        fix = result.fixes.get(cause.short)
        source = cause.after.source
        if fix is not None and fix.code_change is not None:
            source += "; fix: a code change (the demo's own), not SQL"
        table.add_row(cause.short, cause.before.label, _fmt(cause.before), _fmt(cause.after),
                      _bar(cause.before, cause.after), _change(cause.before, cause.after),
                      Text(source, style="dim"))
    for cause, missing in result.not_replayed:
        table.add_row(cause.short, Text(f"not replayed: needs {missing.piece}",
                                        style="yellow"),
                      "—", "—", "", Text("not replayed", style="yellow"), "")
    console.print(table)
    verdict = result.all_named and result.all_improved
    replayed = len(result.causes)
    total = replayed + len(result.not_replayed)
    scope = ("every cause" if not result.not_replayed
             else f"{replayed} of {total} causes replayed; each")
    console.print(Text.assemble(
        (f"Demo finished in {result.seconds:.0f} s: ", "bold"),
        (f"{scope} named and every metric improved." if verdict else
         "some causes were not named or did not improve (see above).",
         "green" if verdict else "red"),
        (f"  Actions journaled to {result.journal}", "dim"),
    ), soft_wrap=True)
    if result.past is not None:
        missed = [f"{c.short}: {code}" for c in result.causes for code in c.named
                  if code not in c.named_past]
        said = ("every cause the live triage named." if not missed
                else f"less: missed {', '.join(missed)}.")
        console.print(Text(
            f"Recorded: triage --at {shown(result.past.at)} (the worst recorded moment, after "
            f"the faults were gone) named {said}",
            style="green" if not missed else "red"), soft_wrap=True)
    if result.missing:
        command = combined_command(result.missing)
        console.print(Text(f"For the full incident: {command}", style="yellow"),
                      soft_wrap=True)
