"""Big JSON plans in any layout (PostgreSQL's own indentation, compacted to one line by
``jq -c`` or ``--compact``, re-indented by another tool with 2 or 4 spaces or tabs, keys
sorted), read node by node.

The text is cut at the nodes' ``"Plans"`` keys, which are unambiguous without tokenizing
anything: a string cannot hold an unescaped quote, and an opening quote of ``"Plans"``
that is not escaped can only start that key (right after a closing quote only ``,``
``:`` ``}`` ``]`` may follow). So the text before a node's ``"Plans": [`` holds its own
keys; with its trailing comma turned into ``}`` it decodes as an object. A node without
children ends where its braces balance before the next ``"Plans"`` key.

The quick way, for nearly every node: msgspec decodes the node's text straight into the
typed record (``_node.JsonNode``), in C, skipping what the analysis never reads; runs of
childless siblings (the bulk of a big plan) go in one tight loop. Whatever msgspec refuses
takes the exact way: the standard library's decoder, which also says where a node without
children ends when braces inside strings misled the count, keeps PostgreSQL 12's repeated
per-worker ``JIT`` keys, and gives the position of any syntax error. Between nodes only
``,`` ``]`` ``}`` and keys that follow a ``"Plans"`` array (a layout with sorted keys)
remain, checked here one by one: every byte of the input is checked by a decoder or by this
scanner, and an error names its line and byte offset.

Memory is one chunk of text and the open nodes, whatever the plan's size. For a big file,
``_twocores`` runs this scanner in a child process while the analysis runs in the parent.
What the scanner finds in a node's text is in :mod:`._nodetext`; the text's window over the
input, and the positions errors name, in :mod:`._textbuffer`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from json.scanner import make_scanner
from typing import Any

from pgcrisis.errors import InputError
from pgcrisis.plan._analysis import Analyzer
from pgcrisis.plan._jsonscan import Truncated, statement_value
from pgcrisis.plan._nodetext import balanced_end, decoded, fill, next_plans, own_segment
from pgcrisis.plan._source import Position
from pgcrisis.plan._textbuffer import WHITESPACE, TextBuffer, error_at
from pgcrisis.plan._values import Props

_WS = re.compile(r"[ \t\r\n]*")
_NEXT_SIBLING = re.compile(r"[ \t\r\n]*,[ \t\r\n]*(?=\{)")
_PLAN = re.compile(r'(?<!\\)"Plan"[ \t\r\n]*:[ \t\r\n]*(?=\{)')
#: text kept ahead of the position before a node is decoded (fewer retries at a chunk's end)
_AHEAD = 256 << 10
#: a node's objects decode as lists of (key, value) pairs: repeated keys (PostgreSQL 12
#: prints one "JIT" per worker in the node) are all kept, and no dict is built per object
_NODES = json.JSONDecoder(object_pairs_hook=list)
_VALUES = json.JSONDecoder()
# the C scanner, (text, index) -> (value, end), as JSONDecoder.raw_decode uses it (typeshed
# types make_scanner's argument as the scanner class itself)
_scan_node = make_scanner(_NODES)  # type: ignore[arg-type]
_scan_value = make_scanner(_VALUES)  # type: ignore[arg-type]
_scan_string = json.decoder.scanstring  # type: ignore[attr-defined]
_TIMES = ("Planning Time", "Execution Time", "Total Runtime")
#: statement-level keys before "Plan" (sorted keys) are small; beyond this, it is no plan
_HEAD_LIMIT = 16 << 20

# where the scanner is
(_TOP, _TOP_ARRAY, _TOP_NEXT, _WRAPPER, _NODE, _FIRST_CHILD, _NEXT_CHILD, _NODE_REST,
 _WRAPPER_REST) = range(9)
#: the lists: after an element, the state a ',' leads to and the one its ']' leads to
_LISTS = {_NEXT_CHILD: (_NODE, _NODE_REST), _TOP_NEXT: (_TOP_ARRAY, _TOP)}
_EXPECTED = {
    _TOP: "a plan object '{' or psql's array '['",
    _TOP_ARRAY: "a plan object '{'",
    _TOP_NEXT: "',' or the ']' ending the list of plans",
    _WRAPPER: "a \"Plan\" key",
    _NODE: "a plan node '{'",
    _FIRST_CHILD: "a plan node '{' or ']'",
    _NEXT_CHILD: "',' or the ']' ending \"Plans\"",
    _NODE_REST: "',' or the '}' ending the node",
    _WRAPPER_REST: "',' or the '}' ending the plan",
}


class NodeScanner(TextBuffer):
    """Feeds :class:`Analyzer` from JSON in any layout, one decoded node at a time."""

    def __init__(self, analyzer: Analyzer, name: str) -> None:
        super().__init__(name)
        self._an = analyzer
        self.plans = 0
        # An InitPlan has been read: from now on a node's output list may reference its
        # result ($0, (InitPlan 1).col1). PostgreSQL lists InitPlans before the nodes that
        # can use them, and the analysis charges references only to InitPlans it has read.
        self._initplans = False

    def feed(self, chunks: Iterable[bytes], position: Position) -> None:
        """Scan all chunks; raise :class:`InputError` naming the byte offset of anything
        that is not a plan's JSON, or where the input ends early.

        One loop over the scanner's states, with the text, the position and what is known
        of the next ``"Plans"`` key in local variables. It is the plan reader's hot loop,
        longer than a function should be for that reason: it passes a few times per node
        with children (runs of childless nodes are :meth:`_quick`'s loop), and one more
        method call per pass costs 2% of the instructions spent per node (callgrind, a
        6,000-node plan analysed in one process: 63,900 instead of 62,600). So the states
        every node passes through are handled inline, and what is rare (the exact way, keys
        after ``"Plans"``, the states outside the nodes) in methods.
        """
        self._start(chunks, position)
        an = self._an
        state = _TOP
        in_array = False
        stack: list[Props | None] = []    # the open nodes' dicts (None: decoded typed)
        buf, pos = self._more("", 0)
        plans_at: tuple[int, int] | None = None  # the next "Plans": [ at or after pos
        plans_none = False                       # no "Plans" key after pos in buf
        seg = ""                                 # buf[seg_start:that key], last comma -> }
        seg_start = -1
        more = False                             # read on before reading at pos
        ws = _WS.match
        while True:
            pos = ws(buf, pos).end()  # type: ignore[union-attr]
            if more or pos >= len(buf):
                if self._eof and not more:
                    break
                buf, pos = self._more(buf, pos)
                plans_at, plans_none, seg_start, more = None, False, -1, False
                continue
            char = buf[pos]
            if state == _NODE:
                if char != "{":
                    self._fail(buf, pos, "not a plan node", _EXPECTED[state])
                if len(buf) - pos < _AHEAD and not self._eof:
                    more = True
                    continue
                if plans_at is None and not plans_none:
                    plans_at = next_plans(buf, pos)
                    plans_none = plans_at is None
                # The quick way (msgspec) for nearly every node; the exact way for the rest
                limit = len(buf) if plans_at is None else plans_at[0]
                end = self._quick(buf, pos, limit, plans_at, stack)
                if end == 0:  # a node with children, opened: they follow its "Plans": [
                    assert plans_at is not None
                    pos, plans_at, seg_start, state = plans_at[1], None, -1, _FIRST_CHILD
                    continue
                if end < 0:
                    exact = self._exact(buf, pos, plans_at, seg_start, seg, stack)
                    if exact is None:
                        more = True
                        continue
                    end, seg_start, seg, opened = exact
                    if opened:
                        pos, plans_at, state = end, None, _FIRST_CHILD
                        continue
                pos = end
                state = _NEXT_CHILD if stack else _WRAPPER_REST
            elif state in _LISTS:  # after an element: ',' for the next one, or ']'
                if char == ",":
                    state = _LISTS[state][0]
                elif char == "]":
                    state = _LISTS[state][1]
                else:
                    self._fail(buf, pos, "unexpected character", _EXPECTED[state])
                pos += 1
            elif state == _FIRST_CHILD:
                if char == "]":
                    state = _NODE_REST
                    pos += 1
                else:
                    state = _NODE
            elif state == _NODE_REST:
                if char == "}":
                    pos += 1
                    stack.pop()
                    an.close_node()
                    state = _NEXT_CHILD if stack else _WRAPPER_REST
                elif char == ",":
                    end = self._key_after_plans(buf, pos, True)
                    more = end < 0
                    pos = pos if more else end
                else:
                    self._fail(buf, pos, "unexpected character", _EXPECTED[state])
            else:  # outside the nodes: once or twice a plan
                pos, state, in_array, more = self._outside(buf, pos, char, state, in_array)
                if state == _NODE:
                    plans_at, plans_none, seg_start = None, False, -1
        self._ended(buf, state)

    # -- pieces --------------------------------------------------------------------------

    def _quick(self, buf: str, pos: int, limit: int, plans_at: tuple[int, int] | None,
               stack: list[Props | None]) -> int:
        """The quick way, from ``pos`` (a ``{``) to at most ``limit`` (the next ``"Plans"``
        key, at ``plans_at``, or the buffer's end): the childless nodes that follow one
        another, the bulk of any big plan, decoded whole in one tight loop; else one node
        whose braces balance before ``limit`` (it has no children); else the node's own
        keys up to that ``"Plans"`` key, and the node is opened. Returns where the decoded
        nodes end, 0 when a node was opened, or -1 when the first node is not one msgspec
        takes (the exact way).

        A node ends at its first ``}`` unless it holds an object (per-worker figures) or a
        ``}`` inside a string: then the text up to that ``}`` is no JSON object, msgspec
        says so, and the slower ways take over. msgspec decoding a span whole proves it is
        the node (a JSON value cannot be a prefix of another), so nothing else is checked.
        """
        an = self._an
        find = buf.find
        sibling = _NEXT_SIBLING.match
        reach = len(buf) if self._eof else len(buf) - _AHEAD
        keep_output = self._initplans
        last = -1
        at = pos
        while True:
            close = find("}", at, limit) + 1
            if not close:
                break
            node = decoded(buf[at:close], keep_output)
            if node is None:
                break
            an.leaf(node)
            if node.parent_relationship == "InitPlan":
                self._initplans = keep_output = True
            last = close
            following = sibling(buf, close)
            if following is None or following.end() > reach:
                return last
            at = following.end()
        if last > 0:
            return last
        end = balanced_end(buf, pos, limit)
        if end > 0:  # braces inside strings: the count says where it ends
            node = decoded(buf[pos:end], keep_output)
            if node is None:
                return -1
            an.leaf(node)
            if node.parent_relationship == "InitPlan":
                self._initplans = True
            return end
        if plans_at is None:
            return -1
        span = own_segment(buf, pos, limit)
        node = decoded(span, keep_output) if span else None
        if node is None:
            return -1
        an.open_decoded(node)
        if node.parent_relationship == "InitPlan":
            self._initplans = True
        stack.append(None)
        return 0

    def _exact(self, buf: str, pos: int, plans_at: tuple[int, int] | None, seg_start: int,
               seg: str, stack: list[Props | None]) -> tuple[int, int, str, bool] | None:
        """The exact way, for a node msgspec refused: the standard library's decoder reads
        its keys as pairs (every byte checked, errors named by position), from the text up
        to the next ``"Plans"`` key (the node that key belongs to is opened), or whole where
        no ``"Plans"`` key follows.

        Returns where to read on, the segment before that key and where it starts (kept for
        the siblings that follow in it), and whether a node was opened; ``None`` when the
        buffer ends inside the node (more input may complete it).
        """
        an = self._an
        if plans_at is not None:
            limit = plans_at[0]
            if seg_start < 0:
                seg_start = pos
                seg = self._segment(buf, pos, limit)
            try:
                pairs, end = _scan_node(seg, pos - seg_start)
            except (StopIteration, ValueError) as exc:
                self._bad(buf, seg_start + error_at(exc, pos - seg_start), exc)
            props = an.open_node()
            fill(an, props, pairs)
            if props.get(b"Parent Relationship") == "InitPlan":
                self._initplans = True
            if end == len(seg):  # the node whose "Plans" key this is
                stack.append(props)
                return plans_at[1], -1, seg, True
            an.close_node()
            return seg_start + end, seg_start, seg, False
        try:  # no "Plans" key ahead: a node without children, whole unless cut
            pairs, end = _scan_node(buf, pos)
        except (StopIteration, ValueError) as exc:
            if self._cut(buf, exc, pos):
                return None
            self._bad(buf, error_at(exc, pos), exc)
        props = an.open_node()
        fill(an, props, pairs)
        if props.get(b"Parent Relationship") == "InitPlan":
            self._initplans = True
        an.close_node()
        return end, seg_start, seg, False

    def _outside(self, buf: str, pos: int, char: str, state: int,
                 in_array: bool) -> tuple[int, int, bool, bool]:
        """The states outside the nodes: a plan's object or psql's list of them, the keys
        before its ``"Plan"`` and after it. Returns where to read on, the state there,
        whether the plans are in psql's list, and whether to read more input first."""
        if state == _WRAPPER_REST:
            if char == "}":
                self._an.end_plan()
                return pos + 1, _TOP_NEXT if in_array else _TOP, in_array, False
            if char == ",":
                end = self._key_after_plans(buf, pos, False)
                return (pos, state, in_array, True) if end < 0 else (end, state, in_array, False)
        elif state == _WRAPPER:
            end = self._plan_key(buf, pos)
            return (pos, state, in_array, True) if end < 0 else (end, _NODE, in_array, False)
        elif char == "{":  # _TOP, _TOP_ARRAY: a plan's object, or psql's list of them
            return pos + 1, _WRAPPER, state == _TOP_ARRAY, False
        elif char == "[" and state == _TOP:
            return pos + 1, _TOP_ARRAY, in_array, False
        self._fail(buf, pos, "unexpected character", _EXPECTED[state])

    def _key_after_plans(self, buf: str, pos: int, in_node: bool) -> int:
        """The ``"key": value`` after the ``,`` at ``pos``, which follows a node's
        ``"Plans"`` array (``in_node``) or its plan's ``"Plan"`` object (a layout with
        sorted keys); returns where it ends, or -1 when the buffer ends inside it."""
        try:
            name, value, end = self._member(buf, pos + 1, _scan_node if in_node else _scan_value)
        except (StopIteration, ValueError) as exc:
            if self._cut(buf, exc, pos + 1):
                return -1
            self._bad(buf, error_at(exc, pos + 1), exc)
        if in_node:
            fill(self._an, self._an.late_keys(), [(name, value)])
            if name == "Parent Relationship" and value == "InitPlan":
                self._initplans = True
        else:
            self._statement(name, value)
        return end

    def _plan_key(self, buf: str, pos: int) -> int:
        """A plan's object starts: its statement-level keys up to ``"Plan": ``, where the
        root node follows; returns where that node starts, or -1 to read on (no ``"Plan"``
        key in the buffer yet)."""
        found = _PLAN.search(buf, pos)
        if found is None:
            if not self._eof and len(buf) - pos < _HEAD_LIMIT:
                return -1
            self._fail(buf, pos, "an object without a \"Plan\" key", "a PostgreSQL plan")
        self.plans += 1
        self._an.begin_plan()
        self._head(buf, pos, found.start())
        return found.end()

    def _segment(self, buf: str, start: int, limit: int) -> str:
        """``buf[start:limit]`` (up to a ``"Plans"`` key) with the comma before the key made
        the ``}`` that closes its node's own keys."""
        segment = own_segment(buf, start, limit)
        if segment:
            return segment
        head = buf[start:limit].rstrip(WHITESPACE)
        self._fail(buf, start + len(head), "a \"Plans\" key not preceded by ','",
                   "',' between keys")

    def _member(self, buf: str, pos: int, scan: Any) -> tuple[str, Any, int]:
        """One ``"key": value`` at ``pos`` (after its comma): key, value (decoded by
        ``scan``), where it ends."""
        pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]
        if buf[pos:pos + 1] != '"':
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes",
                                       buf, pos)
        name, pos = _scan_string(buf, pos + 1)
        pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]
        if buf[pos:pos + 1] != ":":
            raise json.JSONDecodeError("Expecting ':' delimiter", buf, pos)
        pos = _WS.match(buf, pos + 1).end()  # type: ignore[union-attr]
        value, pos = scan(buf, pos)
        return name, value, pos

    def _head(self, buf: str, start: int, limit: int) -> None:
        """The statement-level keys before ``"Plan"`` (a layout with sorted keys)."""
        head = buf[start:limit].rstrip(WHITESPACE)
        if not head:
            return
        if not head.endswith(","):
            self._fail(buf, start + len(head), "a \"Plan\" key not preceded by ','",
                       "',' between keys")
        try:
            members = _VALUES.raw_decode("{" + head[:-1] + "}")[0]
        except ValueError as exc:
            self._bad(buf, start + max(0, error_at(exc, 0) - 1), exc)
        for name, value in members.items():
            self._statement(name, value)

    def _statement(self, name: str, value: Any) -> None:
        if name in _TIMES:
            self._an.plan_value(name, value)
        else:
            statement_value(self._an, name, value)

    def _ended(self, buf: str, state: int) -> None:
        """The input ended in ``state``: between plans, having read one at least."""
        if state != _TOP:
            raise Truncated(f"{self._name}: truncated plan: the input ends at "
                            f"{self._where(buf, len(buf))}, inside the JSON; expected "
                            f"{_EXPECTED[state]}")
        if not self.plans:
            raise InputError(f"{self._name}: not a PostgreSQL plan: JSON without a \"Plan\" "
                             f"key ({self._where(buf, len(buf))})")
