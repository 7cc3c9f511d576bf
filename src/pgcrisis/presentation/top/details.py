"""The details of one session: full query, locks, transaction age, client; EXPLAIN (never
ANALYZE) of its query on request."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from pgcrisis import durations
from pgcrisis.top.details import SessionDetail, explain_plan_sql


def detail_text(d: SessionDetail | None, pid: int, plan: str) -> Text:
    """The details panel (``plan``: the EXPLAIN output or why there is none, or "")."""
    out = Text()
    if d is None:
        out.append(f"pid {pid} is not in this sample (it has ended)", style="bold yellow")
        return out
    out.append(f"pid {d.pid}", style="bold")
    out.append(f"  {d.user}@{d.database}  application {d.application or '–'}  "
               f"client {d.client}\n")
    out.append(f"state {d.state}" + (f", waiting on {d.wait}" if d.wait else "") + "\n")
    out.append(f"query running {durations.compact(d.query_s) or '–'}  ·  transaction open "
               f"{durations.compact(d.xact_s) or '–'}  ·  "
               f"connected {durations.compact(d.backend_s) or '–'}\n")
    out.append(f"locks held {d.locks_held} ({d.relation_locks} on relations)")
    if d.strong_locks:
        out.append(": " + ", ".join(d.strong_locks))
    out.append("\n")
    if d.wants:
        out.append(f"waits for {d.wants}\n", style="yellow")
    if d.blocked_by:
        out.append(f"blocked by {', '.join(map(str, d.blocked_by))}\n", style="yellow")
    if d.blocks:
        out.append(f"blocks {', '.join(map(str, d.blocks))}\n", style="bold red")
    for title in d.findings:
        out.append(f"finding: {title}\n", style="magenta")
    out.append("\nquery", style="bold")
    out.append(" (truncated by track_activity_query_size)\n" if d.truncated else "\n",
               style="yellow")
    out.append(d.query + "\n")
    if plan:
        out.append("\nplan (EXPLAIN, not executed)\n", style="bold")
        out.append(plan + "\n")
    return out


class DetailsScreen(Screen[None]):
    """One session; the app refreshes it with every new moment."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("e", "explain", "EXPLAIN"),
    ]

    def __init__(self, pid: int, detail: SessionDetail | None, *, can_explain: bool) -> None:
        super().__init__()
        self.pid = pid
        self.can_explain = can_explain
        self.detail = detail
        self.plan = ""

    def on_mount(self) -> None:
        self.show(self.detail)

    def compose(self) -> ComposeResult:
        self.text = Static(id="detail")
        with VerticalScroll():
            yield self.text
        yield Footer()

    def show(self, detail: SessionDetail | None) -> None:
        self.detail = detail
        self.text.update(detail_text(detail, self.pid, self.plan))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "explain":
            return self.can_explain
        return True

    def action_explain(self) -> None:
        if self.detail is None:
            return
        version = getattr(self.app, "server_version", 0)
        statement, why = explain_plan_sql(self.detail, version)
        if statement is None:
            self.plan = f"cannot EXPLAIN: {why}"
            self.show(self.detail)
            return
        self.plan = "EXPLAIN running…"
        self.show(self.detail)
        explain_in = getattr(self.app, "explain_in_background", None)
        if explain_in is not None:
            explain_in(self, self.detail.database, statement)

    def plan_ready(self, plan: str) -> None:
        self.plan = plan
        self.show(self.detail)
