"""``TopApp``: the header, the load, the sessions, the blocking tree and the findings of one
moment, live or replayed, with the few actions the live view offers (their keys:
:mod:`.acting`).

The app never waits on the server: a live source samples on its own thread and the app polls
``source.latest()``, redrawing only when its ``seq`` changed; actions and EXPLAIN run in
thread workers. Cursors stay on the same pid across redraws.
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import ClassVar, Protocol

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane, Tree

from pgcrisis.dsn import Target
from pgcrisis.presentation.top.acting import ActingApp
from pgcrisis.presentation.top.details import DetailsScreen
from pgcrisis.presentation.top.findings import FindingsPane
from pgcrisis.presentation.top.header import HeaderPanel
from pgcrisis.presentation.top.load import TALL, LoadPanel
from pgcrisis.presentation.top.sessions import SessionsPane
from pgcrisis.presentation.top.tree import BlockingTree
from pgcrisis.top.details import pids_of, session_detail
from pgcrisis.top.sessions import DURATIONS, SORT_KEYS, SessionFilter, parse_filter
from pgcrisis.top.view import Moment

#: what takes the keys on each tab
_FOCUS = {"sessions": "#session-table", "tree": "#blocking", "findings": "#finding-table"}


class Source(Protocol):
    """Where moments come from: :class:`~pgcrisis.top.live.sampling.LiveSource`,
    :class:`~pgcrisis.top.replay.ReplaySource`, or a test's fixed moment."""

    def latest(self) -> Moment | None: ...


class TopApp(ActingApp):
    """``pgcrisis top``."""

    CSS_PATH = str(Path(__file__).with_name("top.tcss"))
    TITLE = "pgcrisis top"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        Binding("1", "tab('sessions')", "sessions", show=False),
        Binding("2", "tab('tree')", "tree", show=False),
        Binding("3", "tab('findings')", "findings", show=False),
        Binding("i", "toggle_idle", "idle"),
        Binding("o", "sort", "sort"),
        Binding("d", "basis", "duration"),
        Binding("slash", "filter", "filter"),
        Binding("space", "tag", "tag", show=False),
        Binding("c", "cancel", "cancel"),
        Binding("k", "terminate", "term"),
        Binding("p", "rollback_prepared", "rollback 2PC"),
        Binding("j", "job", "cron job"),
        Binding("l", "cap_role", "cap role"),
        Binding("s", "role_setting", "role setting"),
        Binding("left_square_bracket", "step(False)", "◀ sample"),
        Binding("right_square_bracket", "step(True)", "sample ▶"),
        Binding("n", "flagged(True)", "next finding"),
        Binding("N", "flagged(False)", "prev finding"),
    ]

    def __init__(self, source: Source, *, target: Target, read_only: bool = False,
                 zone: tzinfo | None = None, poll_s: float = 0.2) -> None:
        super().__init__()
        self.source = source
        self.target = target
        self.replay = hasattr(source, "step")
        self.read_only = read_only or self.replay
        self.zone = zone
        self.poll_s = poll_s
        self.moment: Moment | None = None
        self.where = SessionFilter()
        self.sort = SORT_KEYS[0]
        self.basis = next(iter(DURATIONS))
        self.tagged: frozenset[int] = frozenset()
        self.server_version = 0

    # -- layout and redraw ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeaderPanel(id="header")
        yield LoadPanel(id="load")
        with TabbedContent(initial="sessions"):
            with TabPane("1 Sessions", id="sessions"):
                yield SessionsPane()
            with TabPane("2 Blocking tree", id="tree"):
                yield BlockingTree("sessions", id="blocking")
            with TabPane("3 Findings", id="findings"):
                yield FindingsPane()
        yield Static(id="message")
        yield Footer()

    def on_mount(self) -> None:
        # the widgets of the main screen, kept: a details screen or a modal may be on top
        self.header_panel = self.query_one(HeaderPanel)
        self.load_panel = self.query_one(LoadPanel)
        self.tabs = self.query_one(TabbedContent)
        self.sessions_pane = self.query_one(SessionsPane)
        self.blocking = self.query_one(BlockingTree)
        self.findings_pane = self.query_one(FindingsPane)
        self.message = self.query_one("#message", Static)
        # the tab bar takes no focus: 1, 2, 3 switch tabs, and keys reach the tab's content
        self.query_one("ContentTabs").can_focus = False
        self._focus_tab("sessions")
        self.redraw()
        self.poll()
        self.set_interval(self.poll_s, self.poll)

    def poll(self) -> None:
        """Redraw when the source has a new moment (the seq changed)."""
        if not self.is_running or not self.sessions_pane.is_attached:
            # the app is closing (shutdown stops it running before it removes the widgets,
            # one by one): a last tick must not touch them
            return
        moment = self.source.latest()
        if moment is None or (self.moment is not None and moment.seq == self.moment.seq):
            return
        self.moment = moment
        self.redraw()

    def redraw(self) -> None:
        moment = self.moment
        where = self.target.redacted
        error = getattr(self.source, "error", None)
        self.header_panel.show(moment, where=where, zone=self.zone,
                                         read_only=self.read_only)
        if error is not None:
            self.say(f"sampling stopped: {error}")
        self.redraw_load()
        if moment is None:
            return
        self.server_version = moment.snapshot.server.version_num
        view = moment.view
        self.tagged = frozenset(p for p in self.tagged
                                if any(r.pid == p for r in view.sessions))
        self.sessions_pane.show(view.sessions, where=self.where, sort=self.sort,
                                          basis=self.basis, tagged=self.tagged)
        self.blocking.show(view.tree)
        self.findings_pane.show(view.findings)
        self.refresh_bindings()  # what the highlighted finding offers may have changed
        if isinstance(self.screen, DetailsScreen):
            self.screen.show(session_detail(moment.snapshot, self.screen.pid, view.findings))

    def redraw_load(self) -> None:
        """The load pane: its history only where the terminal is tall enough for it."""
        if self.moment is not None:
            width = self.load_panel.size.width or self.size.width - 2
            self.load_panel.show(self.moment.view.load, width=width,
                                 tall=self.size.height >= TALL)

    def on_resize(self, event: events.Resize) -> None:
        self.redraw_load()

    def redraw_sessions(self) -> None:
        if self.moment is not None:
            self.sessions_pane.show(self.moment.view.sessions, where=self.where,
                                              sort=self.sort, basis=self.basis,
                                              tagged=self.tagged)

    def say(self, line: str) -> None:
        """The message line above the footer (an action's result, a hint)."""
        self.message.update(line)

    # -- navigation, sorting, filtering -------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        self.tabs.active = tab
        self._focus_tab(tab)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id is not None:
            self._focus_tab(event.pane.id)
        self.refresh_bindings()  # a finding's own keys show on the findings tab only

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "finding-table":
            self.refresh_bindings()  # the keys of the finding now highlighted

    def _focus_tab(self, tab: str) -> None:
        """Keys act on what the tab shows: its table or tree takes the focus (focusing a
        widget of a pane also makes that pane the active one)."""
        if self.screen is self.tabs.screen:
            self.tabs.query_one(_FOCUS[tab]).focus()

    def action_toggle_idle(self) -> None:
        self.where = self.where.with_(show_idle=not self.where.show_idle)
        self.redraw_sessions()

    def action_sort(self) -> None:
        self.sort = SORT_KEYS[(SORT_KEYS.index(self.sort) + 1) % len(SORT_KEYS)]
        self.redraw_sessions()

    def action_basis(self) -> None:
        bases = list(DURATIONS)
        self.basis = bases[(bases.index(self.basis) + 1) % len(bases)]
        self.redraw_sessions()

    def action_filter(self) -> None:
        self.action_tab("sessions")
        box = self.sessions_pane.filter_box
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.where = parse_filter(event.value, self.where)
        event.input.display = False
        self.sessions_pane.table.focus()
        self.redraw_sessions()

    def action_tag(self) -> None:
        pid = self.sessions_pane.current_pid()
        if self.active_tab() != "sessions" or pid is None:
            return
        self.tagged = self.tagged ^ {pid}
        self.redraw_sessions()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "session-table":
            pid = self.sessions_pane.current_pid()
            if pid is not None:
                self.open_details(pid)
        elif event.data_table.id == "finding-table":
            finding = self.findings_pane.current()
            if finding is not None:
                self.where = SessionFilter(show_idle=self.where.show_idle,
                                           only_pids=pids_of(finding))
                self.action_tab("sessions")
                self.redraw_sessions()
                self.say(f"sessions of {finding.code}: {finding.title} (/ and Enter: all "
                         "sessions again)")

    def on_tree_node_selected(self, event: Tree.NodeSelected[int]) -> None:
        pid = event.node.data
        if pid:
            self.open_details(pid)

    def open_details(self, pid: int) -> None:
        detail = (session_detail(self.moment.snapshot, pid, self.moment.view.findings)
                  if self.moment is not None else None)
        self.push_screen(DetailsScreen(pid, detail, can_explain=not self.replay))

    @work(thread=True, exclusive=True, group="explain")
    def explain_in_background(self, screen: DetailsScreen, database: str,
                              statement: str) -> None:
        from pgcrisis.top.live.explain import explain

        plan = explain(self.target, database, statement)
        self.call_from_thread(screen.plan_ready, plan)

    # -- replay -------------------------------------------------------------------------------

    def action_step(self, forward: bool) -> None:
        self._step(forward, flagged=False)

    def action_flagged(self, forward: bool) -> None:
        self._step(forward, flagged=True)

    def _step(self, forward: bool, *, flagged: bool) -> None:
        step = getattr(self.source, "step", None)
        if step is None:
            return
        if not step(forward, flagged=flagged):
            what = "moment with a finding" if flagged else "sample"
            self.say(f"no {'later' if forward else 'earlier'} {what} in the recording")
        else:
            self.say("")
        self.poll()
