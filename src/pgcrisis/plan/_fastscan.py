"""The fast path for PostgreSQL's own indented JSON (what EXPLAIN ... FORMAT JSON prints).

That format puts one key on each line and indents two spaces per level, and JSON never has
a raw newline inside a string. So a line ``<indent>"Key": value`` can be read without
tokenizing anything else, and the indentation alone says which object it belongs to: a
node's keys sit at its ``"Node Type"`` line's indentation; a child's four spaces deeper;
per-worker figures (``"Workers": [{...}]``) also four deeper but before any child. Work
goes node by node: ``bytes.find`` jumps from one ``"Node Type"`` line to the next, and one
regular expression bound to the node's indentation picks its keys straight into a dict;
everything else (output lists of wide tables, per-worker details, settings) is skipped in
C. Only statement-level keys (timings, JIT, triggers) are read line by line.

:func:`looks_indented` decides from the first chunk whether the fast path applies (the
strict parser also vets that chunk's syntax first); any other JSON layout goes to
``_nodescan`` or, when small, to the strict parser in ``_jsonscan``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pgcrisis.errors import InputError
from pgcrisis.plan._analysis import Analyzer
from pgcrisis.plan._source import Position
from pgcrisis.plan._values import RawValue, num, text
from pgcrisis.plan.model import TriggerStat

NODE_KEYS = (
    "Node Type", "Parent Relationship", "Subplan Name", "CTE Name", "Relation Name",
    "Schema", "Alias", "Index Name", "Function Name", "Join Type",
    "Total Cost", "Plan Rows", "Actual Total Time", "Actual Rows", "Actual Loops",
    "Workers Launched", "Single Copy", "Output", "Filter", "Index Cond", "Recheck Cond",
    "Hash Cond", "Join Filter", "Merge Cond", "One-Time Filter", "TID Cond", "Sort Key",
    "Group Key", "Order By", "Cache Key", "Run Condition",
    "Rows Removed by Filter", "Rows Removed by Index Recheck", "Rows Removed by Join Filter",
    "Shared Hit Blocks", "Shared Read Blocks", "Local Hit Blocks", "Local Read Blocks",
    "Temp Read Blocks", "Temp Written Blocks", "I/O Read Time", "Shared I/O Read Time",
    "Sort Method", "Sort Space Used", "Sort Space Type", "Hash Batches",
    "Original Hash Batches", "Peak Memory Usage", "HashAgg Batches", "Disk Usage",
    "Exact Heap Blocks", "Lossy Heap Blocks",
)
PLAN_KEYS = ("Plan", "Planning", "Settings", "Planning Time", "Execution Time", "JIT",
             "Total Runtime",
             "Triggers", "Serialization", "Functions", "Total", "Trigger Name",
             "Constraint Name", "Relation", "Time", "Calls")

_KEY_NAMES = {key.encode(): key for key in NODE_KEYS + PLAN_KEYS}
_LINE = re.compile(
    rb"^( *)\"("
    + b"|".join(re.escape(key) for key in sorted(_KEY_NAMES, key=len, reverse=True))
    + rb")\": ([^\n]*[^,\n]),?$",
    re.M,
)
_INDENTED_START = re.compile(rb"\A\s*(?:\[[ \t]*\r?\n\s*)?\{[ \t]*\r?\n( *)\"[^\"\n]+\": ")
# A list whose first element is a scalar on its own line: not PostgreSQL's layout, which
# prints lists of scalars on one line (and the fast path reads them from that line).
_SCALAR_LIST_OVER_LINES = re.compile(rb": \[\r?\n *[^\s{\]]")


_NODE_TYPE = b'"Node Type": '


def key_trie(keys: Iterable[bytes]) -> bytes:
    r"""An alternation of ``keys`` as a prefix tree: ``re`` tries alternatives one by one,
    so sharing prefixes (``Actual (?:Loops|Rows|Total Time)``) makes failing cheap.

    >>> key_trie([b"Plan", b"Plan Rows", b"Planning"])
    b'Plan(?:(?:\\ Rows|ning))?'
    """
    tree: dict[int | None, dict] = {}  # type: ignore[type-arg]
    for key in keys:
        node = tree
        for char in key:
            node = node.setdefault(char, {})
        node[None] = {}

    def build(node: dict) -> bytes:  # type: ignore[type-arg]
        branches = [re.escape(bytes([char])) + build(child)
                    for char, child in sorted((c, n) for c, n in node.items() if c is not None)]
        if not branches:
            return b""
        body = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
        return b"(?:" + body + b")?" if None in node else body

    # an explicit stack would be needed beyond ~900 characters; keys are short
    return build(tree)


_KEY_ALTERNATION = key_trie(key.encode() for key in NODE_KEYS)
_PATTERNS: dict[int, re.Pattern[bytes]] = {}
_SPACES: dict[int, bytes] = {}


def _spaces(count: int) -> bytes:
    _SPACES[count] = b" " * count
    return _SPACES[count]


_DEEP = 128  # beyond this indentation one shared expression, checked in Python
_DEEP_PATTERN = re.compile(b"\n( +)\"(" + _KEY_ALTERNATION + b')": ([^\n]*[^,\n])')


def _pattern(indent: int) -> re.Pattern[bytes]:
    """The expression for one node's own keys: lines at exactly its indentation."""
    compiled = re.compile(b"\n" + b" " * indent + b'"(' + _KEY_ALTERNATION
                          + b')": ([^\n]*[^,\n])')
    _PATTERNS[indent] = compiled
    return compiled


def _own_keys(buf: bytes, indent: int, start: int, end: int) -> list[tuple[bytes, bytes]]:
    """(key, value) of the lines at exactly ``indent`` in ``buf[start:end]``."""
    if indent < _DEEP:
        pattern = _PATTERNS.get(indent) or _pattern(indent)
        return pattern.findall(buf, start, end)
    return [(key, value) for spaces, key, value in _DEEP_PATTERN.findall(buf, start, end)
            if len(spaces) == indent]


def _own_values(buf: bytes, indent: int, key: bytes, start: int,
                end: int) -> list[bytes]:
    """Values of ``key`` on lines indented exactly ``indent`` in ``buf[start:end]``."""
    pattern = re.compile(rb"\n" + b" " * indent + b'"' + re.escape(key) + rb'": ([^,\n]+)')
    return pattern.findall(buf, start, end)


def _opened(chunk: bytes) -> int:
    """Objects opened minus closed in newline-aligned lines of PostgreSQL's layout."""
    return (chunk.count(b"{\n") - chunk.count(b"}\n") - chunk.count(b"},\n")
            + chunk.count(b"{}\n") + chunk.count(b"{},\n"))


def looks_indented(head: bytes) -> bool:
    """Whether the input starts in PostgreSQL's one-key-per-line indented layout."""
    return (_INDENTED_START.match(head) is not None and b'"Node Type": ' in head
            and b"\r\n" not in head[:4096] and _SCALAR_LIST_OVER_LINES.search(head) is None)


class FastScanner:
    """Feeds :class:`Analyzer` from newline-aligned chunks of indented JSON."""

    def __init__(self, analyzer: Analyzer, name: str) -> None:
        self._an = analyzer
        self._name = name
        self._indents: list[int] = []     # key indentation of each open node
        self._plan_indent = -1            # indentation of the "Plan" key; -1 before any
        self._marker = b""                # a line at that indentation: statement-level keys
        self._section = ""
        self._record: dict[str, RawValue] = {}
        self._last_line = b""
        self._base = -1                   # indentation of the opening bracket's line
        self.plans = 0

    def feed(self, chunks: Iterable[bytes], position: Position) -> None:
        """Scan all chunks; raise :class:`InputError` if the input ends early.

        Work goes node by node: from one ``"Node Type"`` line to the next is one node's
        block (its own keys, then closing brackets of finished children, and after the
        last node of a statement the statement-level keys). The node's keys are picked out
        with one regular expression bound to its indentation, into a dict, in C.
        """
        buf = b"\n"  # every block starts at the line break before its first line
        last = b""
        depth = 0
        offset = position.offset
        for chunk in chunks:
            if self._base < 0:
                opening = chunk.lstrip(b"\r\n")
                if opening:
                    # a paste may indent every line: the closing bracket sits where the
                    # opening one does
                    self._base = len(opening) - len(opening.lstrip(b" \t"))
            tail = chunk[-4096:].rstrip()
            if tail:
                last = tail[tail.rfind(b"\n") + 1:]
            # Objects balance over the whole input: a string never holds a line break and
            # always ends with '"', so '{' ending a line opens one, '}' ending a line closes
            # one (less the empty '{}'): a node lost or doubled anywhere shows, not only at
            # the end. (Counted in C: this runs over every byte.)
            depth += _opened(chunk)
            if depth < 0:
                self._unbalanced(chunk, depth, offset)
            offset += len(chunk)
            buf += chunk
            buf = buf[self._blocks(buf, final=False):]
        self._blocks(buf, final=True)
        self._last_line = last
        if not buf.endswith(b"\n"):  # the last line, without its line break
            depth += _opened(buf[buf.rfind(b"\n") + 1:] + b"\n")
        if depth > 0 and last.strip() in (b"]", b"}"):
            raise InputError(f"{self._name}: corrupt plan: {depth} object(s) opened and never "
                             f"closed before the end (byte offset {position.offset:,}): part "
                             f"of the JSON is missing; expected every '{{' closed")
        self._finish(position)

    def _unbalanced(self, chunk: bytes, depth: int, offset: int) -> None:
        """Name the line where more brackets were closed than opened."""
        level = depth - _opened(chunk)
        at = 0
        for line in chunk.split(b"\n"):
            body = line.rstrip(b",")
            if body.endswith(b"}") and not body.endswith(b"{}"):
                level -= 1
            if level < 0:
                raise InputError(
                    f"{self._name}: corrupt plan: a closing '}}' at byte offset "
                    f"{offset + at + len(line) - len(line.lstrip(b' ')):,} closes nothing: "
                    f"part of the JSON before it is missing or broken")
            if body.endswith(b"{"):
                level += 1
            at += len(line) + 1

    def _blocks(self, buf: bytes, *, final: bool) -> int:
        """Process every complete node block in ``buf``; return where the rest starts."""
        an = self._an
        indents = self._indents
        find = buf.find
        rfind = buf.rfind
        pos = 0
        if self._plan_indent < 0:
            first = find(_NODE_TYPE)
            if first < 0:
                if final:
                    self._lines(buf, 0, len(buf))
                    return len(buf)
                return max(0, rfind(b"\n"))
            line = rfind(b"\n", 0, first)
            self._lines(buf, 0, line)
            pos = line
        at = find(_NODE_TYPE, pos)
        while at >= 0:
            line = rfind(b"\n", pos, at)
            indent = at - line - 1
            if indent and not buf.startswith(_SPACES.get(indent) or _spaces(indent), line + 1):
                raise InputError(f"{self._name}: unexpected layout near \"Node Type\" (more "
                                 f"than one key on a line): not PostgreSQL's indented JSON")
            following = find(_NODE_TYPE, at + 13)
            if following < 0:
                if not final:
                    return line
                end = len(buf)
            else:
                end = rfind(b"\n", at, following)
            plan = self._plan_indent
            # Statement-level keys follow a statement's whole tree: they can only sit before
            # a new statement's root node (indentation plan + 2) or at the end.
            statement = -1
            if plan >= 0 and (following < 0 or following - end - 1 <= plan + 2):
                statement = find(self._marker, line, end)
            while indents and indents[-1] >= indent:
                indents.pop()
                an.close_node()
            if plan >= 0:
                indents.append(indent)
                props = an.open_node()
                stop = end if statement < 0 else statement
                props.update(_own_keys(buf, indent, line, stop))
                if find(b'"JIT": {', line, stop) >= 0:  # a worker's (VERBOSE, parallel)
                    # PostgreSQL 13+: in "Workers"; 12: "JIT" keys of the node itself
                    for deeper in (4, 8):
                        for value in _own_values(buf, indent + deeper, b"Total", line, stop):
                            an.worker_jit(num(value))
            if statement >= 0:
                self._lines(buf, statement, end)
            pos = end
            at = following
        return pos

    def _lines(self, buf: bytes, start: int, end: int) -> None:
        """Statement-level lines (and anything before the first node), one by one."""
        an = self._an
        names = _KEY_NAMES
        indents = self._indents
        for indent, raw_key, value in _LINE.findall(buf, start, end):
            n = len(indent)
            key = names[raw_key]
            while indents and indents[-1] >= n:
                indents.pop()
                an.close_node()
            if not indents:
                self._plan_line(n, key, value)

    def _plan_line(self, n: int, key: str, value: bytes) -> None:
        plan = self._plan_indent
        if key == "Plan":
            if plan >= 0:
                self._end_section()
                self._an.end_plan()
            self._plan_indent = n
            self._marker = b"\n" + b" " * n + b'"'
            self._section = ""
            self.plans += 1
            self._an.begin_plan()
            return
        if plan < 0:
            return
        if n == plan:
            self._end_section()
            if key in ("Planning Time", "Execution Time", "Total Runtime"):
                self._an.plan_value(key, value)
            elif key in ("JIT", "Triggers", "Serialization"):
                self._section = key
            return
        section = self._section
        if section == "JIT":
            if (key == "Functions" and n == plan + 2) or (key == "Total" and n == plan + 4):
                self._record[key] = value
        elif section == "Triggers" and n == plan + 4:
            if key == "Trigger Name" and "Trigger Name" in self._record:
                self._emit_trigger()
            self._record[key] = value
        elif section == "Serialization" and n == plan + 2 and key == "Time":
            self._an.serialization(num(value))

    def _end_section(self) -> None:
        if self._section == "JIT" and self._record:
            functions = self._record.get("Functions")
            self._an.jit(num(self._record.get("Total")),
                         None if functions is None else int(num(functions)))
        elif self._section == "Triggers" and self._record:
            self._emit_trigger()
        self._record = {}
        self._section = ""

    def _emit_trigger(self) -> None:
        record = self._record
        self._an.trigger(TriggerStat(
            name=text(record.get("Trigger Name")) or "?",
            relation=text(record.get("Relation")),
            constraint=text(record.get("Constraint Name")),
            time_ms=num(record.get("Time")),
            calls=int(num(record.get("Calls"))),
        ))
        self._record = {}

    def _finish(self, position: Position) -> None:
        last = self._last_line
        base = max(self._base, 0)
        if last.strip() not in (b"]", b"}") or last[base:base + 1] not in (b"]", b"}") \
                or last[:base].strip():
            shown = last.strip()[-40:].decode("utf-8", "replace")
            raise InputError(
                f"{self._name}: truncated plan: the input ends at line {position.line}, byte "
                f"offset {position.offset} after {shown!r}, inside the JSON; expected the "
                f"closing '}}' / ']' of the plan")
        self._close_plan(f"line {position.line}, byte offset {position.offset}")

    def _close_plan(self, where: str) -> None:
        """End the last plan, or say the input was JSON but no plan (``where``: the end)."""
        if self._plan_indent < 0:
            raise InputError(f"{self._name}: not a PostgreSQL plan: JSON without a \"Plan\" "
                             f"key ({where})")
        self._end_section()
        self._an.end_plan()
