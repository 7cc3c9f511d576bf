"""The sessions screen: every session (idle ones on a key), sorted, filtered, tagged."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static

from pgcrisis import durations, shorten
from pgcrisis.top.sessions import SessionFilter, SessionRow, sort_rows

COLUMNS = ("", "pid", "database", "user", "application", "state", "duration", "wait",
           "locks", "blocked by", "query")
#: states shortened to fit the column (the filter and details use the full name)
_SHORT = {"idle in transaction": "idle in xact", "idle in transaction (aborted)": "xact aborted"}
_STATE_STYLE = {"active": "green", "idle in transaction": "bold yellow",
                "idle in transaction (aborted)": "bold red"}


class SessionsPane(Vertical):
    """The filter line, the table and a line saying how it is sorted and filtered.

    The children are kept, not looked up: a redraw that lands while the app closes (its
    widgets removed one by one) then draws into widgets on their way out instead of failing.
    """

    def compose(self) -> ComposeResult:
        self.filter_box = Input(
            placeholder="filter: text, or db: user: app: client: state: (Enter)", id="filter")
        self.table: DataTable[object] = DataTable(id="session-table", cursor_type="row",
                                                  zebra_stripes=True)
        self.status = Static(id="sessions-status")
        yield self.filter_box
        yield self.table
        yield self.status

    def on_mount(self) -> None:
        self.table.add_columns(*COLUMNS)
        self.filter_box.display = False

    def show(self, rows: tuple[SessionRow, ...], *, where: SessionFilter, sort: str,
             basis: str, tagged: frozenset[int]) -> None:
        """Redraw with the cursor kept on the same pid (when it is still shown)."""
        table = self.table
        current = self.current_pid()
        shown = sort_rows((r for r in rows if where.keeps(r)), sort, basis=basis,
                          descending=sort in ("duration", "locks"))
        table.clear()
        for r in shown:
            table.add_row(
                Text("●", style="bold magenta") if r.pid in tagged else "",
                str(r.pid), r.database, r.user, shorten.one_line(r.application, 14),
                Text(_SHORT.get(r.state, r.state), style=_STATE_STYLE.get(r.state, "")),
                durations.compact(r.duration(basis)), r.wait, str(r.locks),
                ",".join(map(str, r.blocked_by)), shorten.one_line(r.query, 40), key=str(r.pid))
        if current is not None and any(r.pid == current for r in shown):
            table.move_cursor(row=table.get_row_index(str(current)), animate=False)
        hidden = len(rows) - len(shown)
        parts = [f"{len(shown)} sessions" + (f" ({hidden} hidden)" if hidden else ""),
                 f"sort: {sort}" + (f" by {basis}" if sort == "duration" else ""),
                 f"duration: {basis}"]
        if where.describe():
            parts.append(f"filter: {where.describe()}")
        if tagged:
            parts.append(f"tagged: {', '.join(map(str, sorted(tagged)))}")
        self.status.update(" · ".join(parts))

    def current_pid(self) -> int | None:
        """The pid under the cursor."""
        table = self.table
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None
