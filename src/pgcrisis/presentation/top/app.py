"""``TopApp``: the header, the sessions, the blocking tree and the findings of one moment,
live or replayed, with the few actions the live view offers.

The app never waits on the server: a live source samples on its own thread and the app polls
``source.latest()``, redrawing only when its ``seq`` changed; actions and EXPLAIN run in
thread workers. Cursors stay on the same pid across redraws.
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import ClassVar, Protocol

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane, Tree

from pgcrisis.actions import Action, Cancel, Terminate
from pgcrisis.dsn import Target
from pgcrisis.errors import PgcrisisError
from pgcrisis.mitigate.apply import run_action
from pgcrisis.presentation.top.confirm import ConfirmAction
from pgcrisis.presentation.top.details import DetailsScreen
from pgcrisis.presentation.top.findings import FindingsPane
from pgcrisis.presentation.top.header import HeaderPanel
from pgcrisis.presentation.top.sessions import SessionsPane
from pgcrisis.presentation.top.tree import BlockingTree
from pgcrisis.top.details import finding_actions, pids_of, session_detail
from pgcrisis.top.sessions import DURATIONS, SORT_KEYS, SessionFilter, parse_filter
from pgcrisis.top.view import Moment

#: actions that change the server: gone in --read-only and in replay
CHANGING = frozenset({"cancel", "terminate", "rollback_prepared", "job"})
#: actions that move through a recording: replay only
STEPPING = frozenset({"step", "flagged"})


#: what takes the keys on each tab
_FOCUS = {"sessions": "#session-table", "tree": "#blocking", "findings": "#finding-table"}


class Source(Protocol):
    """Where moments come from: :class:`~pgcrisis.top.live.sampling.LiveSource`,
    :class:`~pgcrisis.top.replay.ReplaySource`, or a test's fixed moment."""

    def latest(self) -> Moment | None: ...


class TopApp(App[None]):
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
        if isinstance(self.screen, DetailsScreen):
            self.screen.show(session_detail(moment.snapshot, self.screen.pid, view.findings))

    def redraw_sessions(self) -> None:
        if self.moment is not None:
            self.sessions_pane.show(self.moment.view.sessions, where=self.where,
                                              sort=self.sort, basis=self.basis,
                                              tagged=self.tagged)

    def say(self, line: str) -> None:
        """The message line above the footer (an action's result, a hint)."""
        self.message.update(line)

    # -- which keys exist -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in CHANGING:
            return not self.read_only
        if action in STEPPING:
            return self.replay
        return True

    # -- navigation, sorting, filtering -------------------------------------------------------

    def active_tab(self) -> str:
        return self.tabs.active

    def action_tab(self, tab: str) -> None:
        self.tabs.active = tab
        self._focus_tab(tab)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id is not None:
            self._focus_tab(event.pane.id)

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

    # -- actions ------------------------------------------------------------------------------

    def selected_pids(self) -> list[int]:
        """The sessions an action applies to: the details' session, the tagged ones, or the
        one under the cursor."""
        if isinstance(self.screen, DetailsScreen):
            return [self.screen.pid]
        tab = self.active_tab()
        if tab == "sessions":
            if self.tagged:
                return sorted(self.tagged)
            pid = self.sessions_pane.current_pid()
        elif tab == "tree":
            pid = self.blocking.current_pid()
        else:
            finding = self.findings_pane.current()
            return sorted(pids_of(finding)) if finding else []
        return [pid] if pid else []

    def action_cancel(self) -> None:
        pids = self.selected_pids()
        if not pids:
            self.say("no session selected (pid 0 is a prepared transaction: use p on its "
                     "finding)")
            return
        idle = [p for p in pids if self._state(p) == "idle in transaction"]
        if idle and len(idle) == len(pids):
            self.say(f"pid {', '.join(map(str, idle))}: idle in transaction, no statement "
                     "runs, so cancel does nothing useful (its locks stay); terminate (k) "
                     "ends it and rolls its transaction back")
            return
        warning = (f"pid {', '.join(map(str, idle))} idle in transaction: cancel does "
                   "nothing to it (terminate, k, would)") if idle else ""
        self.confirm(Cancel.of(pids), warning)

    def action_terminate(self) -> None:
        pids = self.selected_pids()
        if not pids:
            self.say("no session selected")
            return
        self.confirm(Terminate.of(pids))

    def _finding_action(self, kinds: tuple[str, ...], what: str) -> None:
        finding = self.findings_pane.current()
        if self.active_tab() != "findings" or finding is None or self.moment is None:
            self.say(f"select a finding (3) whose objects include {what}")
            return
        offered = [a for a in finding_actions(finding, self.moment.snapshot)
                   if a.kind in kinds]
        if not offered:
            self.say(f"this finding names no {what}")
            return
        self.confirm(offered[0])

    def action_rollback_prepared(self) -> None:
        self._finding_action(("rollback-prepared",), "prepared transaction")

    def action_job(self) -> None:
        self._finding_action(("pause-job", "resume-job"), "pg_cron job")

    def _state(self, pid: int) -> str:
        if self.moment is None:
            return ""
        return next((r.state for r in self.moment.view.sessions if r.pid == pid), "")

    def confirm(self, action: Action, warning: str = "") -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.say(f"running: {action.title}…")
                self.apply_in_background(action)
            else:
                self.say(f"not run: {action.title}")

        self.push_screen(ConfirmAction(action, warning), answered)

    @work(thread=True, group="actions")
    def apply_in_background(self, action: Action) -> None:
        try:
            # journaled as step top-<kind>; --undo ID takes back what can be taken back
            applied = run_action(action, self.target, step=f"top-{action.kind}")
        except PgcrisisError as exc:
            line = f"{action.title}: failed: {exc}"
        else:
            line = (f"{action.title}: failed: {applied.error or 'not finished'}"
                    if not applied.ok else
                    f"{action.title}: done, journaled as {applied.id}"
                    + (f" (pgcrisis mitigate --undo {applied.id})" if applied.undo else ""))
        self.call_from_thread(self.say, line)
        self.call_from_thread(self._untag)

    def _untag(self) -> None:
        self.tagged = frozenset()
        self.redraw_sessions()
