"""Pictures of the cache: the dependency graph and a refresh timeline, as SVG text.

Hand-written SVG (no dependency): boxes per matview in columns by level, arrows from a base
to what is built on it, each box labelled with the refresh duration and reads; and one row
per lane (or per job) with a bar per refresh on a time axis. :func:`write_picture` writes
the SVG, or a PNG drawn from it by cairosvg (the ``png`` extra, which needs libcairo).
A renderer like the terminal and JSON ones: it draws what the service returned.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from html import escape
from pathlib import Path

from pgcrisis import durations
from pgcrisis.cache.catalog import CacheCatalog
from pgcrisis.cache.graph import CacheGraph
from pgcrisis.cache.planner import Schedule
from pgcrisis.cache.service import PlanRun
from pgcrisis.errors import ConfigError, first_line

_BOX_W, _BOX_H, _GAP_X, _GAP_Y, _PAD = 260, 54, 80, 18, 20
_FONT = "font-family='DejaVu Sans, Arial, sans-serif'"


def _svg(width: float, height: float, body: list[str]) -> str:
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' "
            f"height='{height:.0f}' viewBox='0 0 {width:.0f} {height:.0f}'>\n"
            "<defs><marker id='arrow' markerWidth='10' markerHeight='7' refX='10' refY='3.5'"
            " orient='auto'><polygon points='0 0, 10 3.5, 0 7' fill='#555'/></marker></defs>\n"
            f"<rect width='100%' height='100%' fill='white'/>\n" + "\n".join(body) + "\n</svg>\n")


def graph_svg(graph: CacheGraph, labels: Mapping[str, str],
              warn: frozenset[str] = frozenset()) -> str:
    """The graph: a column per level (views in a cycle in a last, red column)."""
    levels = graph.levels
    columns: dict[int, list[str]] = {}
    last = max(levels.values(), default=-1) + 1
    for name in graph.nodes:
        columns.setdefault(levels.get(name, last), []).append(name)
    where: dict[str, tuple[float, float]] = {}
    for col, names in sorted(columns.items()):
        for row, name in enumerate(sorted(names)):
            where[name] = (_PAD + col * (_BOX_W + _GAP_X), _PAD + 24 + row * (_BOX_H + _GAP_Y))
    width = _PAD * 2 + (max(columns, default=0) + 1) * (_BOX_W + _GAP_X) - _GAP_X
    height = _PAD * 2 + 24 + max((len(v) for v in columns.values()), default=1) * (
        _BOX_H + _GAP_Y)
    body = [f"<text x='{_PAD}' y='{_PAD + 6}' {_FONT} font-size='14' font-weight='bold'>"
            "Materialized views: bases left, dependents right</text>"]
    for view, bases in graph.bases.items():
        for base in bases:
            if base in where and view in where:
                x1, y1 = where[base]
                x2, y2 = where[view]
                body.append(f"<line x1='{x1 + _BOX_W:.0f}' y1='{y1 + _BOX_H / 2:.0f}' "
                            f"x2='{x2:.0f}' y2='{y2 + _BOX_H / 2:.0f}' stroke='#555' "
                            "stroke-width='1.5' marker-end='url(#arrow)'/>")
    stuck = set(graph.stuck())
    for name, (x, y) in where.items():
        fill = "#fde2e1" if name in stuck else ("#fff4d6" if name in warn else "#e8f1fb")
        body.append(f"<rect x='{x:.0f}' y='{y:.0f}' width='{_BOX_W}' height='{_BOX_H}' rx='6'"
                    f" fill='{fill}' stroke='#345'/>")
        body.append(f"<text x='{x + 8:.0f}' y='{y + 21:.0f}' {_FONT} font-size='13'>"
                    f"{escape(name)}</text>")
        body.append(f"<text x='{x + 8:.0f}' y='{y + 41:.0f}' {_FONT} font-size='11' "
                    f"fill='#444'>{escape(labels.get(name, ''))}</text>")
    return _svg(width, height, body)


def timeline_svg(plan: Schedule, title: str, start_label: str = "") -> str:
    """One row per lane, a bar per refresh; dependents' bars link to their bases' ends."""
    lanes = sorted({s.lane for s in plan.slots})
    row_of = {lane: i for i, lane in enumerate(lanes)}
    span = max(plan.window_s, plan.makespan_s, 1.0)
    chart_w, row_h, left = 900.0, 26.0, 90.0
    scale = chart_w / span
    height = _PAD * 2 + 40 + row_h * max(1, len(lanes)) + 24
    body = [f"<text x='{_PAD}' y='{_PAD + 6}' {_FONT} font-size='14' font-weight='bold'>"
            f"{escape(title)}</text>"]
    top = _PAD + 30
    for lane, i in row_of.items():
        y = top + i * row_h
        label = f"lane {lane + 1}" if lane >= 0 else ""
        body.append(f"<text x='{_PAD}' y='{y + 17:.0f}' {_FONT} font-size='11'>{label}</text>")
    for s in plan.slots:
        x = left + s.start_s * scale
        y = top + row_of[s.lane] * row_h
        w = max(1.0, (s.end_s - s.start_s) * scale)
        body.append(f"<rect x='{x:.1f}' y='{y + 3:.0f}' width='{w:.1f}' height='{row_h - 6:.0f}'"
                    f" fill='#6fa8dc' stroke='#234'><title>{escape(s.view)}: "
                    f"{s.end_s - s.start_s:.0f} s</title></rect>")
        if w > 60:
            body.append(f"<text x='{x + 3:.1f}' y='{y + 17:.0f}' {_FONT} font-size='10'>"
                        f"{escape(s.view.rsplit('.', 1)[-1])}</text>")
    axis_y = top + row_h * max(1, len(lanes)) + 6
    body.append(f"<line x1='{left}' y1='{axis_y:.0f}' x2='{left + chart_w}' y2='{axis_y:.0f}'"
                " stroke='#333'/>")
    for k in range(5):
        x = left + chart_w * k / 4
        minutes = span * k / 4 / 60
        body.append(f"<text x='{x:.0f}' y='{axis_y + 16:.0f}' {_FONT} font-size='10'>"
                    f"{escape(start_label)}+{minutes:.0f} min</text>")
    body.append(f"<line x1='{left + plan.window_s * scale:.0f}' y1='{top - 4:.0f}' "
                f"x2='{left + plan.window_s * scale:.0f}' y2='{axis_y:.0f}' stroke='#c00' "
                "stroke-dasharray='4 3'/>")
    return _svg(left + chart_w + _PAD * 2 + 60, height, body)


def node_labels(cat: CacheCatalog) -> dict[str, str]:
    """Each view's refresh duration (and where it comes from) and reads: the second line of
    its box here, and its note in the terminal tree."""
    return {v.name: (f"refresh {durations.decimal(cat.durations[v.name].p50_s)} "
                     f"({cat.durations[v.name].source}), {v.reads:,} reads")
            for v in cat.matviews.views}


def tree_svg(cat: CacheCatalog) -> str:
    """``cache tree --format svg``: the graph, views that cannot refresh CONCURRENTLY marked."""
    unready = frozenset(v.name for v in cat.matviews.views if not v.concurrent_ready)
    return graph_svg(cat.graph, node_labels(cat), unready)


def plan_svg(run: PlanRun) -> str:
    """``cache plan --format svg``: the plan's lanes over the window."""
    p, label = run.plan, run.window.label
    return timeline_svg(p, f"cache plan {label}: {p.lanes} lane(s), peak {p.peak}, lower "
                           f"bound {p.lower_bound}", label.split("-")[0])


def write_picture(svg: str, fmt: str, output: str | None) -> None:
    """SVG as is (to ``output``, else stdout); PNG drawn from it by cairosvg (which needs the
    system's libcairo), only to a file."""
    if fmt == "svg":
        if output:
            Path(output).write_text(svg, encoding="utf-8")
        else:
            sys.stdout.write(svg)
        return
    if not output:
        raise ConfigError("--format png needs --output FILE")
    try:
        import cairosvg
    except (ImportError, OSError) as exc:
        raise ConfigError(f"PNG output needs the png extra (pip install 'pgcrisis[png]') and "
                          f"the cairo library ({first_line(exc)}); or use --format svg") from None
    cairosvg.svg2png(bytestring=svg.encode(), write_to=output)
