"""The blocking tree: each root blocker first, the sessions waiting on it nested beneath."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode as UINode

from pgcrisis.presentation.top._format import age, excerpt
from pgcrisis.top.tree import TreeNode


def node_label(node: TreeNode) -> Text:
    """One line: who, state, how long it waits and for what, how many wait behind it, query."""
    out = Text()
    out.append(node.label, style="bold red" if node.waiting_s is None else "bold")
    out.append(f"  {node.state}" if node.state else "")
    if node.waiting_s is not None:
        out.append(f"  waits {age(node.waiting_s)}", style="yellow")
    if node.wants:
        out.append(f"  for {node.wants}", style="yellow")
    if node.behind:
        out.append(f"  {node.behind} behind", style="bold magenta")
    if node.query:
        out.append(f"  {excerpt(node.query, 60)}", style="dim")
    return out


class BlockingTree(Tree[int]):
    """A Tree whose nodes carry pids; rebuilt from the view on every new moment."""

    auto_expand = False  # Enter opens the session's details, it does not fold the branch

    def show(self, roots: tuple[TreeNode, ...]) -> None:
        current = self.current_pid()
        self.clear()
        self.show_root = False
        if not roots:
            self.root.add_leaf(Text("no session waits on another", style="green"))
            return
        keep: UINode[int] | None = None

        def add(parent: UINode[int], node: TreeNode) -> None:
            nonlocal keep
            branch = parent.add(node_label(node), data=node.pid, expand=True,
                                allow_expand=bool(node.children))
            if node.pid == current and keep is None:
                keep = branch
            for child in node.children:
                add(branch, child)

        for root in roots:
            add(self.root, root)
        if keep is not None:
            target = keep
            self.call_after_refresh(self.move_cursor, target)

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
