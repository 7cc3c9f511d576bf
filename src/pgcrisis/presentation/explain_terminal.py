"""``pgcrisis explain`` in a terminal: summary, tips, and the plan tree with the time bars.

The tree shows every node of a small plan; a big one (the analysis keeps only its hottest
nodes and their paths) is folded to those paths, with a count of what was left out. The hot
path, root to the node with the most exclusive time, is drawn in bold red.
"""

from __future__ import annotations

from functools import partial

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from pgcrisis import durations, sizes
from pgcrisis.model.severity import Severity
from pgcrisis.plan.model import NodeStat, PlanAnalysis, Tip

STYLE = {Severity.CRITICAL: "bold white on red", Severity.WARNING: "bold black on yellow",
         Severity.INFO: "bold white on blue"}
BAR_WIDTH = 20
#: Below this many nodes every node is drawn; above it, the tree is cut to the hot paths.
DRAW_ALL_LIMIT = 120
HOT_DRAWN = 12
MAX_TIPS = 12
#: Deeper plans are listed (hot nodes with shortened paths) instead of drawn as a tree.
MAX_TREE_DEPTH = 40
PER_CODE = 3


#: Times as the summary and the tree write them: two decimals under 10 ms.
_ms = partial(durations.ms, fine_below=10)


def _bar(share: float) -> Text:
    filled = max(0, min(BAR_WIDTH, round(share * BAR_WIDTH)))
    style = "red" if share >= 0.3 else "yellow" if share >= 0.1 else "green"
    return Text.assemble(("█" * filled, style), ("·" * (BAR_WIDTH - filled), "dim"))


def _summary(analysis: PlanAnalysis) -> Table:
    s = analysis.summary
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_row("execution", _ms(s.execution_ms))
    grid.add_row("planning", _ms(s.planning_ms))
    if s.jit_ms:
        share = f" ({s.jit_ms / s.total_ms:.0%})" if s.total_ms else ""
        workers = ""
        if s.jit_split == "measured":
            workers = f"; workers {_ms(s.jit_workers_ms)} at the same time"
        elif s.jit_split == "average":
            workers = (f" per process on average ({_ms(s.jit_total_ms)} summed over the "
                       f"leader and {s.workers_launched:,} workers)")
        grid.add_row("JIT", _ms(s.jit_ms) + share + workers)
    grid.add_row("nodes", f"{s.nodes:,} (depth {s.max_depth:,})")
    if s.bytes_read:
        grid.add_row("read", f"{sizes.megabytes(s.bytes_read)} outside shared_buffers")
    outside = s.triggers_ms + s.serialization_ms + s.other_ms
    if s.execution_ms and outside >= 0.01:
        grid.add_row("outside nodes",
                     f"{_ms(outside)} (triggers {_ms(s.triggers_ms)}, serialization "
                     f"{_ms(s.serialization_ms)}, start-up and other {_ms(s.other_ms)})")
    if s.analyzed and s.root_ms > 0 and s.unattributed_ms >= 0.01:
        grid.add_row("unattributed",
                     f"{_ms(s.unattributed_ms)} of the tree's {_ms(s.root_ms)} "
                     f"({s.unattributed_ms / s.root_ms:.0%}) is in no node's exclusive time")
    return grid


def _tip_text(tip: Tip, indent: str = "") -> Text:
    where = f" node {tip.node}" if tip.node is not None else ""
    return Text.assemble(indent, (f" {tip.severity.value.upper()} ", STYLE[tip.severity]), " ",
                         (tip.code, "bold"), where, "  ", tip.title,
                         (f"  (saves ~{_ms(tip.saving_ms)})", "dim"))


def _tips_panel(analysis: PlanAnalysis) -> Panel | None:
    """The biggest savings first; at most :data:`PER_CODE` of a kind (a plan over 10,000
    partitions has 10,000 alike), the rest counted."""
    if not analysis.tips:
        return None
    parts: list[Text] = []
    shown: dict[str, int] = {}
    hidden: dict[str, int] = dict(analysis.tips_folded)
    for tip in analysis.tips:
        if len(parts) >= 4 * MAX_TIPS or shown.get(tip.code, 0) >= PER_CODE:
            hidden[tip.code] = hidden.get(tip.code, 0) + 1
            continue
        shown[tip.code] = shown.get(tip.code, 0) + 1
        parts.append(_tip_text(tip))
        parts.append(Text("    " + tip.detail, style="dim"))
        for statement in tip.sql:
            parts.append(Text("    " + statement.rstrip(";") + ";", style="green"))
    for code, count in sorted(hidden.items()):
        parts.append(Text(f"… and {count:,} more {code} tips", style="dim"))
    return Panel(Group(*parts), title="Tips, biggest saving first", title_align="left")


def _node_line(node: NodeStat, total: float, analyzed: bool, hot: bool) -> Text:
    share = node.exclusive_ms / total if total > 0 else 0.0
    label = node.label
    if node.subplan_name:
        label = f"[{node.subplan_name}] {label}"
    style = "bold red" if hot else "bold" if share >= 0.1 else ""
    line = Text.assemble(_bar(share) if analyzed else Text(""), " ", (f"#{node.id} ", "dim"),
                         (label, style))
    if node.never_executed:
        line.append("  never executed", style="dim")
    elif analyzed:
        rows = node.actual_rows or 0.0
        line.append(f"  {_ms(node.exclusive_ms)} self, {_ms(node.inclusive_ms)} total", "cyan")
        line.append(f"  rows {rows:,.0f}/{node.plan_rows:,.0f} planned", "dim")
        if node.loops > 1:
            line.append(f" x{node.loops:,.0f} loops", "dim")
    else:
        line.append(f"  cost {node.total_cost:,.1f} (self {node.exclusive_cost:,.1f})", "dim")
    return line


def _tree(analysis: PlanAnalysis) -> Tree | None:
    s = analysis.summary
    total = s.total_ms if s.analyzed else max((n.total_cost for n in analysis.hot_nodes),
                                              default=0.0)
    tips_by_node: dict[int, list[Tip]] = {}
    for tip in analysis.tips:
        if tip.node is not None:
            tips_by_node.setdefault(tip.node, []).append(tip)
    hottest = analysis.hot_nodes[0] if analysis.hot_nodes else None
    hot_ids = set()
    if hottest is not None:
        hot_ids = {step.id for step in analysis.hot_paths.get(hottest.id, ())} | {hottest.id}

    nodes = analysis.nodes
    keep: set[int] | None = None
    if nodes is None or len(nodes) > DRAW_ALL_LIMIT:
        keep = set()
        for node in analysis.hot_nodes[:HOT_DRAWN]:
            keep.add(node.id)
            keep.update(step.id for step in analysis.hot_paths.get(node.id, ()))
    by_id: dict[int, NodeStat] = {}
    if nodes is not None:
        by_id = {node.id: node for node in nodes}
    else:
        by_id = {node.id: node for node in analysis.hot_nodes}
    labels: dict[int, str] = {}
    parents: dict[int, int | None] = {}
    for node in analysis.hot_nodes:
        chain = analysis.hot_paths.get(node.id, ())
        previous: int | None = None
        for step in chain:
            labels[step.id] = step.label
            parents.setdefault(step.id, previous)
            previous = step.id
        parents[node.id] = previous
    for node in by_id.values():
        parents.setdefault(node.id, node.parent_id)
    ids = sorted(set(parents) if keep is None else keep & set(parents))
    if not ids:
        return None
    root = Tree(Text("plan", style="bold"), guide_style="dim")
    branches: dict[int, Tree] = {}
    for node_id in ids:
        parent = parents.get(node_id)
        while parent is not None and parent not in branches and keep is not None \
                and parent not in ids:
            parent = parents.get(parent)
        holder = branches.get(parent, root) if parent is not None else root
        found = by_id.get(node_id)
        if found is None:
            text = Text.assemble(" " * (BAR_WIDTH + 1), (f"#{node_id} ", "dim"),
                                 (labels.get(node_id, "?"),
                                  "bold red" if node_id in hot_ids else ""))
        else:
            text = _node_line(found, total, s.analyzed, node_id in hot_ids)
        branch = holder.add(text)
        branches[node_id] = branch
        for tip in tips_by_node.get(node_id, []):
            branch.add(_tip_text(tip))
    if keep is not None:
        folded = s.nodes - len(ids)
        if folded > 0:
            root.add(Text(f"… {folded:,} more nodes folded (showing the hottest "
                          f"{min(HOT_DRAWN, len(analysis.hot_nodes))} and their paths)",
                          style="dim italic"))
    return root


def _deep_list(analysis: PlanAnalysis) -> Group:
    """For plans too deep to indent: the hottest nodes, each with its path shortened."""
    s = analysis.summary
    total = s.total_ms if s.analyzed else 0.0
    lines: list[Text] = [Text(f"plan {s.max_depth:,} levels deep: the hottest nodes, each "
                              f"with the way down to it", style="bold")]
    for node in analysis.hot_nodes[:HOT_DRAWN]:
        chain = [step.label for step in analysis.hot_paths.get(node.id, ())]
        if len(chain) > 6:
            chain = [*chain[:2], f"… {len(chain) - 5:,} levels …", *chain[-3:]]
        lines.append(_node_line(node, total, s.analyzed, node is analysis.hot_nodes[0]))
        lines.append(Text("      " + " → ".join([*chain, f"#{node.id}"]), style="dim"))
    folded = s.nodes - min(HOT_DRAWN, len(analysis.hot_nodes))
    if folded > 0:
        lines.append(Text(f"… {folded:,} more nodes folded", style="dim italic"))
    return Group(*lines)


def render(analysis: PlanAnalysis, console: Console, *, title: str = "pgcrisis explain") -> None:
    """Print the analysis."""
    console.print(Panel(_summary(analysis), title=title, title_align="left"))
    tips = _tips_panel(analysis)
    if tips is not None:
        console.print(tips)
    else:
        console.print(Text("No tips: nothing in this plan stands out.", style="green"))
    if analysis.summary.max_depth > MAX_TREE_DEPTH:
        console.print(_deep_list(analysis))
    else:
        tree = _tree(analysis)
        if tree is not None:
            console.print(tree)
    for note in analysis.notes:
        console.print(Text(f"note: {note}", style="dim"))


def render_compare(setting: str, baseline: PlanAnalysis, changed: PlanAnalysis,
                   console: Console) -> None:
    """The ``--compare`` table: the same statement with and without the setting."""
    table = Table(title=f"with {setting} vs without", title_justify="left")
    table.add_column("")
    table.add_column("baseline", justify="right")
    table.add_column(setting, justify="right")
    b, c = baseline.summary, changed.summary
    table.add_row("execution", _ms(b.execution_ms), _ms(c.execution_ms))
    table.add_row("planning", _ms(b.planning_ms), _ms(c.planning_ms))
    table.add_row("JIT", _ms(b.jit_ms), _ms(c.jit_ms))
    table.add_row("tips", str(len(baseline.tips)), str(len(changed.tips)))
    console.print(table)
    if b.total_ms and c.total_ms:
        ratio = b.total_ms / c.total_ms
        verdict = f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"
        console.print(Text(f"with {setting}: {verdict} ({_ms(c.total_ms - b.total_ms)})",
                           style="bold"))
