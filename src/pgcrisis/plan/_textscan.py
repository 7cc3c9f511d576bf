"""EXPLAIN's default text format, parsed into the same analyzer events as JSON.

Structure comes from indentation: a node header (``->  Hash Join  (cost=...) (actual ...)``)
opens a node at the column of its arrow; property lines (``Filter: ...``) belong to the
nearest node to their left; ``InitPlan 1 (returns $0)``, ``SubPlan 2`` and ``CTE name``
lines mark the children below them. Lines deeper than a node's own properties (per-worker
details) are skipped. This module builds the tree from where lines stand; what each line
says (a header's name and figures, a property's value) is read by :mod:`._textlines`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pgcrisis.errors import InputError
from pgcrisis.plan._analysis import Analyzer
from pgcrisis.plan._source import Position
from pgcrisis.plan._textclean import clean, is_node_name, paren_balance, starts_plan
from pgcrisis.plan._textlines import (
    HEADER,
    PROPERTY,
    SUBPLAN,
    continues,
    first_ms,
    parse_node_head,
    property_into,
    put_figures,
    trigger_stat,
)
from pgcrisis.plan._values import Props

_MEMBER_PARENTS = frozenset({"Append", "Merge Append", "BitmapAnd", "BitmapOr"})


@dataclass(slots=True)
class _Open:
    column: int
    props: Props | None   # None for an InitPlan/SubPlan/CTE marker
    marker: str | None = None
    prop_column: int = -1
    children: int = 0
    alt: tuple[int, ...] | None = None       # the column at other tab widths (tabs only)
    prop_alt: tuple[int, ...] | None = None


#: Tab widths an indentation with tabs is read at; if they disagree on the tree, we stop.
_TAB_WIDTHS = (8, 4)


@dataclass(slots=True)
class _Physical:
    """The logical line being assembled from a terminal's wrapped pieces."""

    text: str
    line_no: int
    last_width: int  # the raw width of its last piece
    pieces: int = 1


def _columns(indent: str) -> tuple[int, tuple[int, ...] | None]:
    """The indentation's column at tab width 8, and at the other widths if it has tabs.

    >>> _columns("    ")
    (4, None)
    >>> _columns("\\t  ")  # a tab, then two spaces: column 10 at width 8, 6 at width 4
    (10, (6,))
    """
    if "\t" not in indent:
        return len(indent), None
    widths = []
    for width in _TAB_WIDTHS:
        column = 0
        for char in indent:
            column = (column // width + 1) * width if char == "\t" else column + 1
        widths.append(column)
    return widths[0], tuple(widths[1:])


class TextScanner:
    """Parses text-format EXPLAIN into analyzer events, line by line.

    Before the tree logic, each line is cleaned (:mod:`._textclean`: frames, quotes,
    headers), pieces of a line wrapped by a terminal are joined back, and the root's
    indentation (``psql -t`` prints one space before every line) is taken off every line.
    """

    def __init__(self, analyzer: Analyzer, name: str) -> None:
        self._an = analyzer
        self._name = name
        self._stack: list[_Open] = []
        self._in_plan = False
        self._block = ""
        self._jit_functions: int | None = None
        self._base = 0
        self._base_alt: tuple[int, ...] | None = None
        self._width = 0
        self._rejoined = 0
        self._first_rejoined = 0
        self._first_tab = 0
        self._plan_lines: list[int] = []
        self.plans = 0

    def feed(self, chunks: Iterable[bytes], position: Position) -> None:
        """Parse every line."""
        line_no = position.line
        pending: _Physical | None = None
        for chunk in chunks:
            lines = chunk.decode("utf-8", "replace").split("\n")
            if chunk.endswith(b"\n"):
                lines.pop()
            for physical in lines:
                raw = physical.rstrip()
                number = line_no
                line_no += 1
                cell = clean(raw)
                if cell is None or not cell.strip():
                    if pending is not None:
                        self._line(pending.text, pending.line_no)
                        pending = None
                    continue
                width = len(raw)
                if pending is not None and continues(pending.text, pending.last_width, cell,
                                                     self._width, self._base):
                    lost = paren_balance(pending.text) > 0 and pending.last_width < self._width
                    pending.text += (" " if lost and not cell.startswith(" ") else "") + cell
                    pending.last_width = width
                    pending.pieces += 1
                    self._rejoined += 1
                    self._first_rejoined = self._first_rejoined or number
                else:
                    if pending is not None:
                        self._line(pending.text, pending.line_no)
                    pending = _Physical(cell, number, width)
                self._width = max(self._width, width)
        if pending is not None:
            self._line(pending.text, pending.line_no)
        if not self.plans:
            raise InputError(f"{self._name}: not a PostgreSQL plan: no plan node found "
                             f"(expected a line like 'Seq Scan on t  (cost=...)')")
        self._close_all()
        self._an.end_plan()
        self._an.notes.append(
            "text plan: Outer/Inner/InitPlan/SubPlan relationships are inferred from the "
            "indentation, counters that are zero are not printed, and per-worker figures are "
            "skipped; FORMAT JSON carries every figure by name")
        if self._rejoined:
            self._an.notes.append(
                f"{self._rejoined:,} line(s) wrapped by a terminal were joined back to the line "
                f"before (first at line {self._first_rejoined})")
        if self.plans > 1:
            self._an.notes.append(
                f"text plans start at lines "
                f"{', '.join(str(n) for n in self._plan_lines[:20])}")

    # -- lines ---------------------------------------------------------------------------

    def _line(self, line: str, line_no: int) -> None:
        stripped = line.strip()
        if not stripped:
            return
        indent = line[: len(line) - len(line.lstrip())]
        column, alt = _columns(indent)
        if alt is not None and not self._first_tab:
            self._first_tab = line_no
        # most lines are properties: only a line with an arrow, at the margin, or outside
        # a tree can be a node
        header = HEADER.match(" " * column + stripped) if (
            stripped[:2] == "->" or column <= self._base or not self._stack) else None
        costed = header is not None and bool(
            header.group("tc") or header.group("att") or header.group("never")
            or header.group("ar2"))
        arrow = header is not None and header.group("arrow") is not None
        if not self._stack and (costed or arrow or (not self._in_plan and starts_plan(line))):
            # a new plan's root: its indentation is the plan's margin
            self._base, self._base_alt = column, alt
        if column < self._base:
            column, alt = 0, None  # text around the plan, at the margin or left of it
        else:
            column -= self._base
            if alt is not None or self._base_alt is not None:
                alt = tuple(a - b for a, b in zip(alt or (column + self._base,),
                                                  self._base_alt or (self._base,),
                                                  strict=True))
        if (column == 0 and self._in_plan and not stripped.startswith("->")
                and self._statement_line(stripped)):
            return
        is_node = header is not None and (
            arrow or (column == 0 and (costed or is_node_name(stripped))))
        if header is not None and is_node:
            self._node(header, column, alt, line_no)
            return
        marker = SUBPLAN.match(" " * column + stripped)
        if marker is not None and self._stack:
            self._pop_to(column, alt, line_no)
            self._stack.append(_Open(column, None, marker=marker.group("name"), alt=alt))
            return
        if not self._stack:
            if self._block == "JIT":
                self._jit_line(stripped)
                return
            if not self._in_plan:
                shown = stripped[:40]
                raise InputError(f"{self._name}: not a PostgreSQL plan: line {line_no} should "
                                 f"be a plan node, found {shown!r}")
            return
        self._pop_to(column, alt, line_no)
        owner = next((item for item in reversed(self._stack) if item.props is not None), None)
        if owner is None or owner.props is None:
            return
        if owner.prop_column < 0:
            owner.prop_column = column
            owner.prop_alt = alt
        if self._deeper(column, alt, owner.prop_column, owner.prop_alt, line_no):
            if stripped.startswith("Timing:"):  # a worker's JIT (VERBOSE, parallel)
                total = re.search(r"Total ([\d.]+) ms", stripped)
                if total:
                    self._an.worker_jit(float(total.group(1)))
            return
        prop = PROPERTY.match(stripped)
        if prop is not None:
            property_into(owner.props, prop.group("key"), prop.group("value"))

    def _deeper(self, column: int, alt: tuple[int, ...] | None, than: int,
                than_alt: tuple[int, ...] | None, line_no: int) -> bool:
        """``column > than``, checked at every tab width when tabs are involved."""
        deeper = column > than
        if alt is None and than_alt is None:
            return deeper
        for mine, theirs in zip(alt or (column,), than_alt or (than,), strict=True):
            if (mine > theirs) != deeper:
                self._ambiguous(line_no)
        return deeper

    def _ambiguous(self, line_no: int) -> None:
        raise InputError(
            f"{self._name}: line {line_no}: where this line belongs in the plan tree depends "
            f"on how wide a tab is (8 or 4 columns): the indentation mixes tabs and spaces "
            f"(first tab at line {self._first_tab}); expected spaces as EXPLAIN prints them, "
            f"or tabs used alike on every line: expand the tabs at the width they were "
            f"written with (expand -t N) and try again")

    def _node(self, header: re.Match[str], column: int, alt: tuple[int, ...] | None,
              line_no: int) -> None:
        if column == 0 or not self._stack:
            if self._in_plan:
                self._close_all()
                self._an.end_plan()
            self._in_plan = True
            self.plans += 1
            self._plan_lines.append(line_no)
            self._block = "tree"
            self._an.begin_plan()
        else:
            self._pop_to(column, alt, line_no)
        relationship = None
        subplan = None
        if self._stack:
            parent = self._stack[-1]
            if parent.props is None:
                relationship = "InitPlan" if (parent.marker or "").startswith(("InitPlan", "CTE")) \
                    else "SubPlan"
                subplan = parent.marker
            else:
                parent.children += 1
                parent_type = parent.props.get(b"Node Type")
                if parent_type in _MEMBER_PARENTS:
                    relationship = "Member"
                elif parent_type == "Subquery Scan":
                    relationship = "Subquery"
                else:  # lefttree, righttree: as EXPLAIN names them
                    relationship = "Outer" if parent.children == 1 else "Inner"
        props = self._an.open_node()
        props.update(parse_node_head(header.group("head")))
        if relationship:
            props[b"Parent Relationship"] = relationship
        if subplan:
            props[b"Subplan Name"] = subplan
        put_figures(props, header)
        self._stack.append(_Open(column, props, alt=alt))

    def _pop_to(self, column: int, alt: tuple[int, ...] | None = None,
                line_no: int = 0) -> None:
        stack = self._stack
        while stack:
            top = stack[-1]
            if top.alt is None and alt is None:
                if top.column < column:
                    return
            elif not self._deeper(column, alt, top.column, top.alt, line_no):
                pass  # at or left of the open item: it ends here
            else:
                return
            item = stack.pop()
            if item.props is not None:
                self._an.close_node()

    def _close_all(self) -> None:
        self._pop_to(-1)

    def _statement_line(self, line: str) -> bool:
        """A statement-level line (after the tree); False if it is not one."""
        self._close_all()
        if line.startswith(("Planning Time:", "Planning time:")):
            self._an.plan_value("Planning Time", first_ms(line))
        elif line.startswith(("Execution Time:", "Execution time:", "Total runtime:")):
            self._an.plan_value("Execution Time", first_ms(line))
        elif line.startswith("Serialization:"):
            time = re.search(r"time=([\d.]+)", line)
            if time:
                self._an.serialization(float(time.group(1)))
        elif line.startswith("Trigger "):
            trigger = trigger_stat(line)
            if trigger:
                self._an.trigger(trigger)
        elif line.startswith("JIT:"):
            self._block = "JIT"
            return True
        elif (HEADER.match(line) and ("(cost=" in line or "(actual" in line)) \
                or is_node_name(line):
            return False
        else:
            self._block = "" if not line.startswith(("Planning:", "Settings:")) else line
        return True

    def _jit_line(self, line: str) -> None:
        if line.startswith("Functions:"):
            self._jit_functions = int(float(line.split(":", 1)[1]))
        elif line.startswith("Timing:"):
            total = re.search(r"Total ([\d.]+) ms", line)
            self._an.jit(float(total.group(1)) if total else 0.0, self._jit_functions)
            self._block = ""
