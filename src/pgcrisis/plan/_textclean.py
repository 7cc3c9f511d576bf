"""What people paste around a text plan, recognised and taken off one line at a time.

A text plan reaches us as psql printed it (a ``QUERY PLAN`` header, a rule, a frame of any
``\\pset border`` and ``linestyle``, a ``(12 rows)`` footer, ``\\x`` records), as a GUI
copies a result column (every line in double quotes: pgAdmin, DBeaver), or as ``psql -t``
prints rows (one leading space on every line). Nothing here decides the tree: it only
gives the scanner each line's cell, and tells whether a line can start a plan.

>>> unframe(unquote('"  ->  Seq Scan on ""Order"" o  (cost=0.00..1.00 rows=1 width=4)"'))
'  ->  Seq Scan on "Order" o  (cost=0.00..1.00 rows=1 width=4)'
>>> unframe('│   Filter: (a < 100)        │')
'  Filter: (a < 100)'
>>> unframe('├──────────────┤') is None
True
>>> starts_plan('Hash Join') and starts_plan(' Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)')
True
>>> starts_plan('Sort Key: a') or starts_plan('app=# EXPLAIN SELECT 1;')
False
"""

from __future__ import annotations

import re

#: Node names as EXPLAIN's text format prints them (8.4 to 18), for plans without costs.
NODE_NAMES = (
    "Result", "ProjectSet", "Insert on", "Update on", "Delete on", "Merge on", "Append",
    "Merge Append", "Recursive Union", "BitmapAnd", "BitmapOr", "Nested Loop",
    "Merge Join", "Hash Join", "Seq Scan", "Sample Scan", "Gather", "Gather Merge",
    "Index Scan", "Index Only Scan", "Bitmap Index Scan", "Bitmap Heap Scan", "Tid Scan",
    "Tid Range Scan", "Subquery Scan", "Function Scan", "Table Function Scan", "Values Scan",
    "CTE Scan", "Named Tuplestore Scan", "WorkTable Scan", "Foreign Scan", "Custom Scan",
    "Materialize", "Memoize", "Result Cache", "Sort", "Incremental Sort", "Group",
    "Aggregate", "HashAggregate", "GroupAggregate", "MixedAggregate", "WindowAgg", "Unique",
    "SetOp", "HashSetOp", "LockRows", "Limit", "Hash",
)
_JOINED = (r"(?:Nested Loop|Hash|Merge)"
           r"(?: (?:Left|Right|Full|Semi|Anti|Right Semi|Right Anti))? Join")
_NAME = re.compile(
    r"^\s*(?:->\s+)?(?:Parallel |Partial |Finalize |Async )?(?:" + _JOINED + "|"
    + "|".join(re.escape(name) for name in sorted(NODE_NAMES, key=len, reverse=True))
    + r")(?=$| on | using | Backward|\s*\(| \[)"
)
_COSTED = re.compile(r"^\s*(?:->\s+)?[A-Z][A-Za-z ]+.*\((?:cost|actual)[=\s]")
_BARS = "|│║┃"
_RULE = re.compile(r"^[\s\-+=:─━═┌┐└┘├┤┬┴┼╔╗╚╝╠╣╦╩╬╒╕╘╛╞╡╤╧╪╓╖╙╜╟╢╥╨╫]+$")
_FOOTER = re.compile(r"^\(\d+ rows?\)$")
_RECORD = re.compile(r"^[-─]\[ RECORD \d+ \][-─+┼┬]*$")
_EXPANDED = re.compile(r"^QUERY PLAN\s*[|│] ?")


def unquote(line: str) -> str:
    """A line a GUI copied as a quoted CSV field, unquoted; any other line as it is."""
    if '"' not in line:
        return line
    text = line.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return line


_PLAIN_START = frozenset("ABCDEFGHIJKLMNOPRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def unframe(line: str) -> str | None:
    """The cell of a psql line (frame, header, footer taken off); None for pure decoration."""
    text = line.rstrip()
    bare = text.lstrip()
    if (bare[:1] in _PLAIN_START or bare[:3] == "-> ") and not bare.startswith("QUERY PLAN"):
        return text  # a plan line as EXPLAIN prints it (the common case, kept fast)
    if not bare:
        return ""
    if bare == "QUERY PLAN" or _RULE.match(bare) or _FOOTER.match(bare) or _RECORD.match(bare):
        return None
    if len(bare) >= 2 and bare[0] in _BARS and bare[-1] in _BARS:
        cell = bare[1:-1]
        cell = (cell[1:] if cell.startswith(" ") else cell).rstrip()
        return None if cell.strip() == "QUERY PLAN" else cell
    expanded = _EXPANDED.match(text)
    if expanded is not None:
        return text[expanded.end():]
    return text


def starts_plan(line: str) -> bool:
    """Whether a (cleaned) line can be a text plan's first node."""
    return _COSTED.match(line) is not None or _NAME.match(line) is not None


def is_node_name(line: str) -> bool:
    """Whether a line (indentation and arrow allowed) starts with a plan node's name."""
    return _NAME.match(line) is not None


_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


def paren_balance(line: str) -> int:
    """Open minus closed parentheses outside literals and quoted names (a line cut by a
    terminal leaves some open).

    >>> paren_balance("Filter: (note ~~ '%(%'::text)"), paren_balance("Filter: ((a = 1)")
    (0, 1)
    """
    if "'" in line or '"' in line:
        line = _QUOTED.sub("", line)
    return line.count("(") - line.count(")")


def clean(line: str) -> str | None:
    """:func:`unquote` then :func:`unframe`."""
    return unframe(unquote(line))
