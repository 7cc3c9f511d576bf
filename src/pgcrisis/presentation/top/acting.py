"""``top``'s action keys: what each one acts on, which exist at a moment, and running the
chosen action (after its confirmation) in a worker, journaled.

Every action is one of the catalogue's (:mod:`pgcrisis.actions`). On sessions (the tagged
ones, the one under the cursor, the details'), ``c`` cancels and ``k`` terminates. On a
finding (the findings tab), the keys run what ``mitigate`` would do for it
(:func:`~pgcrisis.top.details.finding_steps`, the same typed actions): for a saturation,
``c`` cancels what its driving statement runs now, ``k`` ends the client driving it, ``l``
caps its role's connections, ``s`` sets the role's setting (JIT off); ``p`` rolls back its
prepared transaction, ``j`` pauses or resumes its pg_cron jobs. A finding's own keys are
listed in the footer only while a finding that offers them is highlighted.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.app import App
from textual.widgets import TabbedContent

from pgcrisis.actions import (
    Action,
    Cancel,
    CapConnections,
    PauseJobs,
    ResumeJobs,
    RollbackPrepared,
    SetSetting,
    Terminate,
    TerminateSessions,
)
from pgcrisis.dsn import Target
from pgcrisis.errors import PgcrisisError
from pgcrisis.mitigate.apply import run_action
from pgcrisis.presentation.top.confirm import ConfirmAction
from pgcrisis.presentation.top.details import DetailsScreen
from pgcrisis.presentation.top.findings import FindingsPane
from pgcrisis.presentation.top.sessions import SessionsPane
from pgcrisis.presentation.top.tree import BlockingTree
from pgcrisis.top.details import finding_actions, finding_steps, pids_of
from pgcrisis.top.view import Moment

#: actions that change the server: gone in --read-only and in replay
CHANGING = frozenset({"cancel", "terminate", "rollback_prepared", "job", "cap_role",
                      "role_setting"})
#: actions that move through a recording: replay only
STEPPING = frozenset({"step", "flagged"})
#: the keys of a finding's own actions: which action of the finding each runs, and how the
#: message names it when the finding has none
FINDING_KEYS: dict[str, tuple[Callable[[Action], bool], str]] = {
    "rollback_prepared": (lambda a: isinstance(a, RollbackPrepared), "prepared transaction"),
    "job": (lambda a: isinstance(a, PauseJobs | ResumeJobs), "pg_cron job"),
    "cap_role": (lambda a: isinstance(a, CapConnections), "role to cap"),
    "role_setting": (lambda a: isinstance(a, SetSetting) and a.scope == "role",
                     "role setting (JIT off)"),
}


def _is_cancel(a: Action) -> bool:
    return isinstance(a, Cancel)


def _ends_client(a: Action) -> bool:
    return isinstance(a, TerminateSessions) and a.application_name is not None


class ActingApp(App[None]):
    """The action keys of :class:`~pgcrisis.presentation.top.app.TopApp` (which lays out the
    widgets named here)."""

    target: Target
    read_only: bool
    replay: bool
    moment: Moment | None
    tagged: frozenset[int]
    tabs: TabbedContent
    sessions_pane: SessionsPane
    blocking: BlockingTree
    findings_pane: FindingsPane

    def say(self, line: str) -> None:
        raise NotImplementedError

    def active_tab(self) -> str:
        return self.tabs.active

    def redraw_sessions(self) -> None:
        raise NotImplementedError

    # -- which keys exist -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in CHANGING and self.read_only:
            return False
        if action in STEPPING:
            return self.replay
        if action in FINDING_KEYS:
            return self._offered(action) is not None
        return True

    def _finding_offers(self) -> tuple[Action, ...]:
        """Everything the highlighted finding offers (none off the findings tab)."""
        finding = self.findings_pane.current()
        if self.active_tab() != "findings" or finding is None or self.moment is None:
            return ()
        return (*finding_actions(finding, self.moment.snapshot),
                *finding_steps(finding, self.moment.view.report))

    def _offered(self, key: str) -> Action | None:
        """The highlighted finding's action for ``key`` (``None``: it has none)."""
        wanted = FINDING_KEYS[key][0]
        return next((a for a in self._finding_offers() if wanted(a)), None)

    # -- actions ------------------------------------------------------------------------------

    def selected_pids(self) -> list[int]:
        """The sessions an action applies to: the details' session, the tagged ones, or the
        one under the cursor (on a finding: the sessions it names)."""
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

    def _on_finding(self, wanted: Callable[[Action], bool]) -> Action | None:
        """On the findings tab, outside the details: the finding's step ``wanted`` picks."""
        if isinstance(self.screen, DetailsScreen):
            return None
        return next((a for a in self._finding_offers() if wanted(a)), None)

    def action_cancel(self) -> None:
        step = self._on_finding(_is_cancel)
        if step is not None:  # a saturation's driving statement, as mitigate cancels it
            self.confirm(step)
            return
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
        if pids:
            self.confirm(Terminate.of(pids))
            return
        step = self._on_finding(_ends_client)
        if step is not None:  # the client driving a saturation, as mitigate ends it
            self.confirm(step)
            return
        self.say("no session selected")

    def _finding_action(self, key: str) -> None:
        action = self._offered(key)
        if action is None:
            self.say(f"select a finding (3) whose remedy includes a {FINDING_KEYS[key][1]}")
            return
        self.confirm(action)

    def action_rollback_prepared(self) -> None:
        self._finding_action("rollback_prepared")

    def action_job(self) -> None:
        self._finding_action("job")

    def action_cap_role(self) -> None:
        self._finding_action("cap_role")

    def action_role_setting(self) -> None:
        self._finding_action("role_setting")

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
