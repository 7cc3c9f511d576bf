"""``pgcrisis explain --format html``: one self-contained page (inline CSS and SVG, no
scripts, no network): summary, tips, a flame-style icicle of where the time went, and the
plan tree as nested ``<details>``.

In the icicle each node is a box as wide as its inclusive time, under its parent; its colour
says how much of it is the node's own (exclusive) time, so the hot spots are the dark boxes.
A folded (huge) plan has no full tree, so the picture becomes a bar per hot node.
"""

from __future__ import annotations

from functools import partial
from html import escape

from pgcrisis import durations, sizes
from pgcrisis.plan.model import NodeStat, PlanAnalysis, Tip

WIDTH = 1200
ROW = 20
MAX_ICICLE_DEPTH = 150
_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.3em} h2{font-size:1.1em;margin-top:1.5em}
table.summary td{padding:2px 12px 2px 0} table.summary td:first-child{color:#666}
.tip{border-left:5px solid #39c;padding:4px 10px;margin:8px 0;background:#f6f9fc}
.tip.critical{border-color:#c00;background:#fdf2f2}
.tip.warning{border-color:#e90;background:#fdf8ee}
.tip .code{font-weight:bold} .tip pre{background:#eef;padding:4px;margin:4px 0}
.sev{font-weight:bold;padding:0 4px;color:#fff;background:#39c}
.sev.critical{background:#c00} .sev.warning{background:#e90;color:#000}
details{margin-left:1.2em} summary{cursor:pointer;white-space:nowrap}
.node .bar{display:inline-block;height:10px;background:#d33;margin-right:6px;vertical-align:middle}
.node .t{color:#077} .node .d{color:#888} .hot>summary{color:#b00;font-weight:bold}
svg text{font:11px sans-serif;pointer-events:none} .note{color:#666}
"""


#: Times as the page writes them: two decimals under 10 s.
_ms = partial(durations.ms, fine_below=10_000)


def _colour(share: float) -> str:
    """White-to-red by the share of exclusive time."""
    share = max(0.0, min(1.0, share))
    green = int(235 - 200 * share)
    return f"rgb(240,{green},{int(green * 0.8)})"


def _icicle(nodes: tuple[NodeStat, ...], total: float) -> str:
    if not nodes or total <= 0:
        return ""
    children: dict[int | None, list[NodeStat]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    boxes: list[str] = []
    max_depth = 0
    stack: list[tuple[NodeStat, float, float]] = []
    x = 0.0
    for root in children.get(None, []):
        width = WIDTH * root.inclusive_ms / total
        stack.append((root, x, width))
        x += width
    while stack:
        node, left, width = stack.pop()
        if node.depth > MAX_ICICLE_DEPTH:
            continue
        max_depth = max(max_depth, node.depth)
        y = node.depth * ROW
        share = node.exclusive_ms / total
        title = escape(f"#{node.id} {node.label}: {_ms(node.exclusive_ms)} self, "
                       f"{_ms(node.inclusive_ms)} total")
        boxes.append(
            f'<g><title>{title}</title><rect x="{left:.2f}" y="{y}" width="{max(width, 0.5):.2f}" '
            f'height="{ROW - 2}" fill="{_colour(share * 3)}" stroke="#fff"/>'
        )
        if width > 40:
            label = escape(node.label[: int(width / 6.5)])
            boxes.append(f'<text x="{left + 3:.2f}" y="{y + 14}">{label}</text>')
        boxes.append("</g>")
        offset = left
        for child in children.get(node.id, []):
            child_width = min(WIDTH * child.inclusive_ms / total, left + width - offset)
            stack.append((child, offset, max(child_width, 0.0)))
            offset += max(child_width, 0.0)
    height = (max_depth + 1) * ROW
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}">{"".join(boxes)}</svg>')


def _bars(analysis: PlanAnalysis, total: float) -> str:
    rows = []
    for index, node in enumerate(analysis.hot_nodes[:25]):
        width = WIDTH * 0.6 * node.exclusive_ms / total if total > 0 else 0.0
        label = escape(f"#{node.id} {node.label}  {_ms(node.exclusive_ms)}")
        rows.append(f'<rect x="0" y="{index * ROW}" width="{max(width, 1):.1f}" '
                    f'height="{ROW - 2}" fill="#d44"/><text x="{max(width, 1) + 4:.1f}" '
                    f'y="{index * ROW + 14}">{label}</text>')
    height = max(1, len(rows)) * ROW
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}">'
            f'{"".join(rows)}</svg>')


def _tip_html(tip: Tip) -> str:
    where = f" (node #{tip.node})" if tip.node is not None else ""
    sql = "".join(f"<pre>{escape(s)};</pre>" for s in tip.sql)
    return (f'<div class="tip {tip.severity.value}"><span class="sev {tip.severity.value}">'
            f'{tip.severity.value.upper()}</span> <span class="code">{escape(tip.code)}</span>'
            f'{escape(where)}: {escape(tip.title)} <i>saves ~{_ms(tip.saving_ms)}</i>'
            f'<div>{escape(tip.detail)}</div>{sql}</div>')


def _tree_html(analysis: PlanAnalysis, total: float) -> str:
    nodes = analysis.nodes
    if nodes is None:
        items = []
        for node in analysis.hot_nodes:
            path = " → ".join(step.label for step in analysis.hot_paths.get(node.id, ()))
            items.append(f"<li><b>#{node.id} {escape(node.label)}</b> "
                         f"{_ms(node.exclusive_ms)} self<br><span class='note'>"
                         f"{escape(path)}</span></li>")
        return (f"<p class='note'>{analysis.summary.nodes:,} nodes: too many to draw; the "
                f"hottest nodes and their paths:</p><ol>{''.join(items)}</ol>")
    hottest = analysis.hot_nodes[0].id if analysis.hot_nodes else None
    hot_ids = {step.id for step in analysis.hot_paths.get(hottest, ())} if hottest else set()
    if hottest is not None:
        hot_ids.add(hottest)
    tips: dict[int, list[Tip]] = {}
    for tip in analysis.tips:
        if tip.node is not None:
            tips.setdefault(tip.node, []).append(tip)
    out: list[str] = []
    open_depths: list[int] = []
    for node in nodes:  # pre-order (by id), depth says where to close
        while open_depths and open_depths[-1] >= node.depth:
            open_depths.pop()
            out.append("</details>")
        share = node.exclusive_ms / total if total > 0 else 0.0
        css = "node hot" if node.id in hot_ids else "node"
        out.append(
            f'<details open class="{css}"><summary><span class="bar" '
            f'style="width:{max(1, int(share * 200))}px"></span>#{node.id} '
            f'{escape(node.label)} <span class="t">{_ms(node.exclusive_ms)} self, '
            f'{_ms(node.inclusive_ms)} total</span> <span class="d">rows '
            f'{(node.actual_rows or 0):,.0f} / {node.plan_rows:,.0f} planned, '
            f'{node.loops:,.0f} loops</span></summary>'
        )
        out.extend(_tip_html(tip) for tip in tips.get(node.id, []))
        open_depths.append(node.depth)
    out.extend("</details>" for _ in open_depths)
    return "".join(out)


def render(analysis: PlanAnalysis, *, title: str = "pgcrisis explain") -> str:
    """The whole page."""
    s = analysis.summary
    total = s.total_ms
    rows = [("execution", _ms(s.execution_ms)), ("planning", _ms(s.planning_ms)),
            ("JIT", _ms(s.jit_ms)), ("nodes", f"{s.nodes:,} (depth {s.max_depth:,})"),
            ("read from outside shared_buffers", sizes.megabytes(s.bytes_read)),
            ("outside nodes", f"triggers {_ms(s.triggers_ms)}, serialization "
                              f"{_ms(s.serialization_ms)}, start-up/other {_ms(s.other_ms)}")]
    summary = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
    tips = "".join(_tip_html(tip) for tip in analysis.tips) or "<p>No tips.</p>"
    picture = _icicle(analysis.nodes, total) if analysis.nodes is not None else \
        _bars(analysis, total)
    notes = "".join(f"<p class='note'>note: {escape(n)}</p>" for n in analysis.notes)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><table class='summary'>{summary}</table>"
        f"<h2>Tips</h2>{tips}<h2>Where the time went</h2>{picture}"
        f"<h2>Plan</h2>{_tree_html(analysis, total)}{notes}</body></html>\n"
    )
