"""The blocking tree: each root blocker first, the sessions waiting on it nested beneath."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode as UINode

from pgcrisis import durations, shorten
from pgcrisis.top.tree import TreeNode


def node_label(node: TreeNode) -> Text:
    """One line: who, state, how long it waits and for what, how many wait behind it, query."""
    out = Text()
    out.append(node.label, style="bold red" if node.waiting_s is None else "bold")
    out.append(f"  {node.state}" if node.state else "")
    if node.waiting_s is not None:
        out.append(f"  waits {durations.compact(node.waiting_s)}", style="yellow")
    if node.wants:
        out.append(f"  for {node.wants}", style="yellow")
    if node.behind:
        out.append(f"  {node.behind} behind", style="bold magenta")
    if node.query:
        out.append(f"  {shorten.one_line(node.query, 60)}", style="dim")
    return out


class BlockingTree(Tree[int]):
    """A Tree whose nodes carry pids; rebuilt from the view on every new moment."""

    auto_expand = False  # Enter opens the session's details, it does not fold the branch

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(label, id=id)
        self.wanted: int | None = None  # the pid the cursor stays on across redraws

    def show(self, roots: tuple[TreeNode, ...]) -> None:
        self.clear()
        self.show_root = False
        if not roots:
            self.root.add_leaf(Text("no session waits on another", style="green"))
            return
        lines: list[int] = []  # pids in display order (every branch is expanded)

        def add(parent: UINode[int], node: TreeNode) -> None:
            lines.append(node.pid)
            branch = parent.add(node_label(node), data=node.pid, expand=True,
                                allow_expand=bool(node.children))
            for child in node.children:
                add(branch, child)

        for root in roots:
            add(self.root, root)
        if self.wanted in lines:
            self.cursor_line = lines.index(self.wanted)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[int]) -> None:
        if event.node.data is not None:
            self.wanted = event.node.data

    def current_pid(self) -> int | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def lines(self) -> list[str]:
        """Every visible node's text, top to bottom (what a person reads; tests use it)."""
        out: list[str] = []

        def walk(node: UINode[int], depth: int) -> None:
            for child in node.children:
                out.append("  " * depth + str(child.label))
                walk(child, depth + 1)

        walk(self.root, 0)
        return out
