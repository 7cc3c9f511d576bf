"""What a line of a text-format plan says: a node's header (its name, costs and actual
figures), a property of the node above it, an InitPlan/SubPlan/CTE marker, a statement-level
figure, or the rest of a line a terminal wrapped. Text names (``HashAggregate``, ``Nested
Loop Left Join``, ``Parallel Seq Scan``, ``Index Scan Backward using i on s.t x``) and
property values are turned into the JSON format's keys, so every rule works the same on
both formats. Where a line stands in the tree is :mod:`._textscan`'s business.
"""

from __future__ import annotations

import re

from pgcrisis.plan._textclean import paren_balance, starts_plan
from pgcrisis.plan._values import Props
from pgcrisis.plan.model import TriggerStat

HEADER = re.compile(
    r"^(?P<indent> *)(?P<arrow>->  )?(?P<head>\S.*?)"
    r"(?:  \(cost=(?P<sc>[\d.]+)\.\.(?P<tc>[\d.]+) rows=(?P<rows>\d+) width=\d+\))?"
    r"(?: ?\((?:actual time=(?P<ast>[\d.]+)\.\.(?P<att>[\d.]+) rows=(?P<ar>[\d.]+)"
    r" loops=(?P<loops>\d+)|actual rows=(?P<ar2>[\d.]+) loops=(?P<loops2>\d+)"
    r"|(?P<never>never executed))\))?\s*$"
)
_HEADER_NODE = re.compile(r"^\s*(?:->  \S|[A-Z][A-Za-z ]+.*\((?:cost|actual)[=\s].*\)\s*$)")
SUBPLAN = re.compile(r"^(?P<indent> *)(?P<name>(?:InitPlan|SubPlan) \d+(?: \(returns .*\))?"
                      r"|CTE \S.*)$")
PROPERTY = re.compile(r"^(?P<indent> *)(?P<key>[A-Z][A-Za-z/ -]*?): ?(?P<value>.*)$")
_TRIGGER = re.compile(r"^Trigger (?P<name>.+?)(?: for constraint (?P<con>\S+))?"
                      r"(?: on (?P<rel>\S+))?: time=(?P<time>[\d.]+) calls=(?P<calls>\d+)")
_MS = re.compile(r"([\d.]+) ms")
_PAIR = re.compile(r"(\w+)=([\d.]+)")
_JOIN_TYPES = ("Left", "Right", "Full", "Semi", "Anti", "Right Semi", "Right Anti", "Inner")
_JOINS = ("Nested Loop", "Hash", "Merge")
_AGGREGATES = {"HashAggregate": "Hashed", "GroupAggregate": "Sorted",
               "MixedAggregate": "Mixed", "Aggregate": "Plain"}
_MODIFY = ("Insert", "Update", "Delete", "Merge")
_COPIED = {
    "Filter", "Index Cond", "Recheck Cond", "Hash Cond", "Join Filter", "Merge Cond",
    "One-Time Filter", "Output", "Sort Key", "Group Key", "TID Cond", "Order By",
    "Rows Removed by Filter", "Rows Removed by Index Recheck", "Rows Removed by Join Filter",
    "Workers Launched", "Heap Fetches", "Cache Key",
}
_NUMERIC = {"Rows Removed by Filter", "Rows Removed by Index Recheck",
            "Rows Removed by Join Filter", "Workers Launched", "Heap Fetches"}
_STATEMENT = re.compile(
    r"^(?:Planning [Tt]ime:|Execution [Tt]ime:|Total runtime:|Planning:|Settings:|JIT:"
    r"|Trigger .*: time=|Serialization:|Query Identifier:)")
_LINE_START = re.compile(r"^\s*(?:->  |[A-Z][A-Za-z/ -]*:|(?:InitPlan|SubPlan) \d|CTE \S"
                         r"|Worker \d+:|[A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)*  \()")
_WRAP_MIN_WIDTH = 40


def parse_node_head(head: str) -> Props:
    """JSON-style keys from a text node name.

    >>> parse_node_head("Index Scan Backward using t_pkey on public.t t_1")[b"Node Type"]
    'Index Scan'
    >>> parse_node_head("Hash Left Join")[b"Join Type"]
    'Left'
    """
    props: Props = {}
    name = head
    if name.startswith("Parallel "):
        props[b"Parallel Aware"] = True
        name = name[len("Parallel "):]
    for prefix in ("Partial ", "Finalize "):
        if name.startswith(prefix):
            name = name[len(prefix):]
    target = None
    using = None
    if " on " in name:
        name, target = name.split(" on ", 1)
    if " using " in name:
        name, using = name.split(" using ", 1)
    if name.endswith(" Backward"):
        name = name[: -len(" Backward")]
    node_type = name
    for join in _JOINS:
        if name.startswith(join + " ") and name.endswith(" Join"):
            middle = name[len(join) + 1: -len(" Join")]
            if middle in _JOIN_TYPES:
                props[b"Join Type"] = middle
                node_type = "Nested Loop" if join == "Nested Loop" else f"{join} Join"
        elif name in ("Nested Loop", f"{join} Join"):
            props[b"Join Type"] = "Inner"
    if name in _AGGREGATES:
        node_type = "Aggregate"
        props[b"Strategy"] = _AGGREGATES[name]
    if name in ("HashSetOp", "SetOp") or name.startswith(("HashSetOp ", "SetOp ")):
        node_type = "SetOp"
    if name in _MODIFY:
        node_type = "ModifyTable"
        props[b"Operation"] = name
    props[b"Node Type"] = node_type
    if using:
        props[b"Index Name"] = using
    if target:
        relation, _, alias = target.partition(" ")
        if node_type == "CTE Scan":
            props[b"CTE Name"] = relation
        elif node_type == "Function Scan":
            props[b"Function Name"] = relation
        elif node_type == "Bitmap Index Scan":
            props[b"Index Name"] = relation
            relation = ""
        if relation and node_type not in ("CTE Scan", "Function Scan"):
            schema, dot, bare = relation.rpartition(".")
            props[b"Relation Name"] = bare.strip('"') if dot else relation.strip('"')
            if dot:
                props[b"Schema"] = schema.strip('"')
        if alias:
            props[b"Alias"] = alias.strip('"')
    return props


def put_figures(props: Props, header: re.Match[str]) -> None:
    """A node header's costs and actual figures (a match of :data:`HEADER`) into its keys."""
    groups = header.groupdict()
    if groups["tc"] is not None:
        props[b"Total Cost"] = float(groups["tc"])
        props[b"Plan Rows"] = float(groups["rows"])
    if groups["att"] is not None:
        props[b"Actual Total Time"] = float(groups["att"])
        props[b"Actual Rows"] = float(groups["ar"])
        props[b"Actual Loops"] = float(groups["loops"])
    elif groups["ar2"] is not None:
        props[b"Actual Rows"] = float(groups["ar2"])
        props[b"Actual Loops"] = float(groups["loops2"])
    elif groups["never"]:
        props[b"Actual Loops"] = 0.0
        props[b"Actual Rows"] = 0.0
        props[b"Actual Total Time"] = 0.0


def property_into(props: Props, key: str, value: str) -> None:
    """A property line (``Key: value``) into the node's JSON keys: the ones the analysis
    reads, with figures parsed as EXPLAIN (FORMAT JSON) would give them."""
    if key in _COPIED:
        props[key.encode()] = float(value) if key in _NUMERIC and _is_number(value) \
            else value
    elif key == "Buffers":
        section = ""
        for part in value.split(" "):
            if part in ("shared", "local", "temp"):
                section = part
                continue
            name, _, number = part.rstrip(",").partition("=")
            if number and section:
                label = {"hit": "Hit", "read": "Read", "dirtied": "Dirtied",
                         "written": "Written"}.get(name)
                if label:
                    props[f"{section.title()} {label} Blocks".encode()] = float(number)
    elif key == "I/O Timings":
        pairs = dict(_PAIR.findall(value.replace("shared read", "read")))
        if "read" in pairs:
            props[b"I/O Read Time"] = float(pairs["read"])
    elif key == "Sort Method":
        method, _, rest = value.partition("  ")
        props[b"Sort Method"] = method.strip()
        space = re.search(r"(Memory|Disk): (\d+)kB", rest)
        if space:
            props[b"Sort Space Type"] = space.group(1)
            props[b"Sort Space Used"] = float(space.group(2))
    elif key in ("Buckets", "Batches"):
        text = f"{key}: {value}"
        batches = re.search(r"Batches: (\d+)(?: \(originally (\d+)\))?", text)
        memory = re.search(r"Memory(?: Usage)?: (\d+)kB", text)
        disk = re.search(r"Disk Usage: (\d+)kB", text)
        if batches:
            batch_key = b"Hash Batches" if key == "Buckets" else b"HashAgg Batches"
            props[batch_key] = float(batches.group(1))
            if batches.group(2):
                props[b"Original Hash Batches"] = float(batches.group(2))
        if memory:
            props[b"Peak Memory Usage"] = float(memory.group(1))
        if disk:
            props[b"Disk Usage"] = float(disk.group(1))
    elif key == "Heap Blocks":
        pairs = dict(_PAIR.findall(value))
        if "exact" in pairs:
            props[b"Exact Heap Blocks"] = float(pairs["exact"])
        if "lossy" in pairs:
            props[b"Lossy Heap Blocks"] = float(pairs["lossy"])


def trigger_stat(line: str) -> TriggerStat | None:
    """A ``Trigger name on table: time=... calls=...`` line."""
    trigger = _TRIGGER.match(line)
    if trigger is None:
        return None
    return TriggerStat(name=trigger.group("name"), relation=trigger.group("rel"),
                       constraint=trigger.group("con"), time_ms=float(trigger.group("time")),
                       calls=int(trigger.group("calls")))


def continues(text: str, last_width: int, cell: str, widest: int, margin: int) -> bool:
    """Whether ``cell`` is the rest of the line ``text`` (whose last piece was
    ``last_width`` wide), cut by a terminal's width: the widest line so far is ``widest``,
    the plan's margin at column ``margin``.

    A node line never continues anything. Otherwise a line continues the one before
    when that one left a parenthesis open, or filled the terminal's width and this one
    cannot be a line of the tree where it stands.
    """
    if _HEADER_NODE.match(cell) is not None:
        return False
    if paren_balance(text) > 0:
        return True
    if last_width < max(widest, _WRAP_MIN_WIDTH):
        return False
    column = len(cell) - len(cell.lstrip())
    if column < margin:
        return True
    if column == margin:
        return _STATEMENT.match(cell.strip()) is None and not starts_plan(cell)
    return _LINE_START.match(cell) is None


def first_ms(line: str) -> float:
    """The first ``N ms`` figure of a line (0 without one)."""
    found = _MS.search(line)
    return float(found.group(1)) if found else 0.0


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True

