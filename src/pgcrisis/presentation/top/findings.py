"""The findings screen: the triage checks' findings at this moment, worst first, with the
selected one's detail, evidence and remedy SQL."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from pgcrisis import shorten
from pgcrisis.model.findings import Finding

_STYLE = {"critical": "bold red", "warning": "bold yellow", "info": "cyan"}


def finding_text(f: Finding) -> Text:
    """The detail panel of one finding."""
    out = Text()
    out.append(f"{f.severity.value.upper()}  {f.code}\n", style=_STYLE[f.severity.value])
    out.append(f.title + "\n", style="bold")
    out.append(f.detail + "\n")
    names = [o.name or (f"pid {o.pid}" if o.pid is not None else o.kind) for o in f.objects]
    if names:
        out.append("objects: ", style="bold")
        out.append(shorten.listed(names, limit=12) + "\n")
    if f.evidence:
        out.append("evidence:\n", style="bold")
        for key, value in f.evidence.items():
            if key == "items" and isinstance(value, list):
                out.append(f"  items: {len(value)} findings grouped\n")
                continue
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            out.append(f"  {key}: {shorten.cut(text, 200)}\n")
    if f.remedy is not None:
        out.append("remedy: ", style="bold")
        out.append(f.remedy.summary + "\n")
        for statement in f.remedy.sql:
            out.append(f"  {statement}\n", style="green")
    return out


class FindingsPane(Vertical):
    """The list of findings and the detail of the highlighted one (children kept, as in
    :class:`~pgcrisis.presentation.top.sessions.SessionsPane`)."""

    def compose(self) -> ComposeResult:
        self.table: DataTable[object] = DataTable(id="finding-table", cursor_type="row")
        self.detail = Static(id="finding-detail")
        self._findings: tuple[Finding, ...] = ()
        yield self.table
        with VerticalScroll(id="finding-scroll"):
            yield self.detail

    def on_mount(self) -> None:
        self.table.add_columns("severity", "code", "title")

    def show(self, findings: tuple[Finding, ...]) -> None:
        table = self.table
        row = table.cursor_row
        self._findings = findings
        table.clear()
        for i, f in enumerate(findings):
            table.add_row(Text(f.severity.value, style=_STYLE[f.severity.value]), f.code,
                          f.title, key=str(i))
        if findings:
            table.move_cursor(row=min(row, len(findings) - 1), animate=False)
        self._detail()

    def current(self) -> Finding | None:
        table = self.table
        if not self._findings or table.row_count == 0:
            return None
        return self._findings[min(table.cursor_row, len(self._findings) - 1)]

    def _detail(self) -> None:
        f = self.current()
        self.detail.update(finding_text(f) if f else Text("no findings at this moment",
                                                     style="green"))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()
