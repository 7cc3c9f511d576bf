"""The confirmation of an action: its title, its exact SQL, its risk and undo; y or n."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from pgcrisis.actions import Action, RoleBrake


def action_text(action: Action, warning: str) -> Text:
    out = Text()
    out.append(action.title + "\n\n", style="bold")
    out.append("runs:\n", style="bold")
    for statement in action.sql:
        out.append(f"  {statement};\n", style="green")
    if action.database:
        out.append(f"  (in database {action.database})\n", style="dim")
    out.append("\nrisk: ", style="bold")
    out.append(action.risk + "\n")
    out.append("undo: ", style="bold")
    if isinstance(action, RoleBrake) and action.undo_read_at_apply:  # as mitigate says it
        undo = (f"restores the role's {action.restores} as read just before the change "
                "(pgcrisis mitigate --undo ID)")
    else:
        undo = ("\n  ".join(s.text for s in action.undo) if action.undo
                else "none: it cannot be taken back")
    out.append(undo + "\n")
    if warning:
        out.append("\n" + warning + "\n", style="bold yellow")
    out.append("\nJournaled. Run it? ", style="bold")
    out.append("y", style="bold reverse")
    out.append(" yes  ")
    out.append("n", style="bold reverse")
    out.append(" no")
    return out


class ConfirmAction(ModalScreen[bool]):
    """Dismissed with True (y) or False (n, escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "yes, run it"),
        Binding("n", "answer(False)", "no"),
        Binding("escape", "answer(False)", "no", show=False),
    ]

    def __init__(self, action: Action, warning: str = "") -> None:
        super().__init__()
        self.action_ = action
        self.warning = warning

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(action_text(self.action_, self.warning), id="confirm-text")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
