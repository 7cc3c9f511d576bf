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
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from json.scanner import make_scanner
from typing import Any, NoReturn

import msgspec

from pgcrisis.errors import InputError
from pgcrisis.plan._analysis import Analyzer
from pgcrisis.plan._jsonscan import Truncated, statement_value
from pgcrisis.plan._node import JsonNode, decode_node
from pgcrisis.plan._source import Position
from pgcrisis.plan._values import Props, num

_WS = re.compile(r"[ \t\r\n]*")
_PLANS_TAIL = re.compile(r"[ \t\r\n]*:[ \t\r\n]*\[")
_NEXT_SIBLING = re.compile(r"[ \t\r\n]*,[ \t\r\n]*(?=\{)")
_PLAN = re.compile(r'(?<!\\)"Plan"[ \t\r\n]*:[ \t\r\n]*(?=\{)')
_WHITESPACE = " \t\r\n"
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
#: chunks from this size on have their lines counted by numpy
_NUMPY_FROM = 256 << 10
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

def _balanced_end(buf: str, start: int, limit: int) -> int:
    """Where the object opening at ``start`` ends, by counting braces up to each ``}``
    before ``limit``; -1 when none balances. Braces inside strings can mislead the count:
    the decoder, which checks the span, then refuses it and the exact path takes over."""
    find = buf.find
    count = buf.count
    depth = 0
    at = start
    while True:
        close = find("}", at, limit)
        if close < 0:
            return -1
        close += 1
        depth += count("{", at, close) - count("}", at, close)
        if depth <= 0:
            return close if depth == 0 else -1
        at = close


def _decoded(span: str, keep_output: bool) -> JsonNode | None:
    """A node's text decoded by msgspec, or None for the exact path: text msgspec refuses
    (which the exact path names precisely, or reads where braces in strings misled the
    count), a value of an unexpected type, or per-worker figures. ``keep_output``: the
    plan has an InitPlan, whose result a node may reference in its output list."""
    try:
        node = decode_node(span)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if node.workers or node.jit:
        return None
    node.output = (bytes(node.output).decode()  # type: ignore[assignment]
                   if keep_output and node.output else None)
    return node


class _KeyBytes(dict[str, bytes]):
    """Node keys as the analyzer's dict holds them (bytes),
    looked up in C; a key not seen before is encoded once."""

    def __missing__(self, name: str) -> bytes:
        raw = name.encode()
        if len(self) < 10_000:
            self[name] = raw
        return raw


_KEY_OF = _KeyBytes().__getitem__


def _fill(an: Analyzer, props: Props, pairs: list[tuple[str, Any]]) -> None:
    """A node's own keys into the analyzer's dict (in C: one dict, one update); of its
    objects only the per-worker JIT figures are read, and then left out."""
    own = dict(pairs)
    if "Workers" in own or "JIT" in own or "Plans" in own:
        _objects(an, own, pairs)
    props.update(zip(map(_KEY_OF, own), own.values(), strict=True))


def _objects(an: Analyzer, own: dict[str, Any], pairs: list[tuple[str, Any]]) -> None:
    """Per-worker JIT: PostgreSQL 12 repeats a "JIT" object per worker in the node (every
    one of ``pairs``), 13+ puts one in each "Workers" element."""
    if own.pop("Plans", None):  # only a "Plans" key spelt with escapes gets here
        raise InputError("a \"Plans\" key written with escapes: not as PostgreSQL writes a "
                         "plan, and not read")
    for worker in own.pop("Workers", None) or ():
        if type(worker) is list:
            for key, item in worker:
                if key == "JIT" and type(item) is list:
                    _worker_jit(an, item)
    if type(own.get("JIT")) is list:
        del own["JIT"]
        for name, value in pairs:
            if name == "JIT" and type(value) is list:
                _worker_jit(an, value)


def _worker_jit(an: Analyzer, jit: list[tuple[str, Any]]) -> None:
    for key, timing in jit:
        if key == "Timing" and type(timing) is list:
            an.worker_jit(num(dict(timing).get("Total")))


def _own_segment(buf: str, start: int, limit: int) -> str:
    """``buf[start:limit]`` (up to a ``"Plans"`` key) with the comma before the key made
    the ``}`` that closes its node's own keys; empty when no comma or ``{`` precedes it."""
    head = buf[start:limit].rstrip(_WHITESPACE)
    if head.endswith(","):
        return head[:-1] + "}"
    if head.endswith("{"):
        return head + "}"
    return ""


def _newlines(chunk: bytes) -> int:
    """Line breaks in a chunk: in a big one counted by numpy, eight times faster than
    ``bytes.count`` on this project's machine (0.1 s instead of 0.9 s a GiB)."""
    if len(chunk) < _NUMPY_FROM:
        return chunk.count(b"\n")
    import numpy as np  # loaded by the first big chunk only (a small plan never needs it)

    return int(np.count_nonzero(np.frombuffer(chunk, np.uint8) == 0x0A))


def _next_plans(buf: str, pos: int) -> tuple[int, int] | None:
    """Where the next ``"Plans": [`` starts and ends (``str.find``, then a check: far
    faster than a regular expression search, which has no literal prefix to skip to)."""
    find = buf.find
    while True:
        at = find('"Plans"', pos)
        if at < 0:
            return None
        if at == 0 or buf[at - 1] != "\\":
            tail = _PLANS_TAIL.match(buf, at + 7)
            if tail is not None:
                return at, tail.end()
        pos = at + 1


class NodeScanner:
    """Feeds :class:`Analyzer` from JSON in any layout, one decoded node at a time."""

    def __init__(self, analyzer: Analyzer, name: str) -> None:
        self._an = analyzer
        self._name = name
        self.plans = 0
        self._chunks: Iterator[bytes] = iter(())
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._eof = False
        self._base_offset = 0   # byte offset of the text buffer's first character
        self._first_line = 1    # the line the input starts at
        self._newlines = 0      # line breaks in all the text received so far
        self._buf_bytes = 0     # bytes behind the text buffer
        # An InitPlan has been read: from now on a node's output list may reference its
        # result ($0, (InitPlan 1).col1). PostgreSQL lists InitPlans before the nodes that
        # can use them, and the analysis charges references only to InitPlans it has read.
        self._initplans = False

    def feed(self, chunks: Iterable[bytes], position: Position) -> None:
        """Scan all chunks; raise :class:`InputError` naming the byte offset of anything
        that is not a plan's JSON, or where the input ends early."""
        self._chunks = iter(chunks)
        self._base_offset = position.offset
        self._first_line = position.line
        an = self._an
        state = _TOP
        in_array = False
        stack: list[Props | None] = []    # the open nodes' dicts (None: decoded typed)
        buf, pos = self._more("", 0)
        plans_at: tuple[int, int] | None = None  # the next "Plans": [ at or after pos
        plans_none = False                       # no "Plans" key after pos in buf
        seg = ""                                 # buf[seg_start:that key], last comma -> }
        seg_start = -1
        ws = _WS.match
        while True:
            pos = ws(buf, pos).end()  # type: ignore[union-attr]
            if pos >= len(buf):
                if self._eof:
                    break
                buf, pos = self._more(buf, pos)
                plans_at, plans_none, seg_start = None, False, -1
                continue
            char = buf[pos]
            if state == _NODE:
                if char != "{":
                    self._fail(buf, pos, "not a plan node", _EXPECTED[state])
                if len(buf) - pos < _AHEAD and not self._eof:
                    buf, pos = self._more(buf, pos)
                    plans_at, plans_none, seg_start = None, False, -1
                    continue
                if plans_at is None and not plans_none:
                    plans_at = _next_plans(buf, pos)
                    plans_none = plans_at is None
                # The quick way: a node whose brackets balance before the next "Plans" key
                # has no children, and is decoded whole; else its own keys, up to that key.
                # Whatever msgspec refuses goes the exact way below (which names errors).
                limit = len(buf) if plans_at is None else plans_at[0]
                end = self._leaves(buf, pos, limit)
                if end > 0:
                    pos = end
                    state = _NEXT_CHILD if stack else _WRAPPER_REST
                    continue
                end = _balanced_end(buf, pos, limit)
                if end > 0:
                    node = _decoded(buf[pos:end], self._initplans)
                    if node is not None:
                        an.leaf(node)
                        if node.parent_relationship == "InitPlan":
                            self._initplans = True
                        pos = end
                        state = _NEXT_CHILD if stack else _WRAPPER_REST
                        continue
                elif plans_at is not None:
                    span = _own_segment(buf, pos, limit)
                    node = _decoded(span, self._initplans) if span else None
                    if node is not None:
                        an.open_decoded(node)
                        if node.parent_relationship == "InitPlan":
                            self._initplans = True
                        stack.append(None)
                        pos = plans_at[1]
                        plans_at, seg_start = None, -1
                        state = _FIRST_CHILD
                        continue
                if plans_at is not None:
                    limit = plans_at[0]
                    if seg_start < 0:
                        seg_start = pos
                        seg = self._segment(buf, pos, limit)
                    try:
                        pairs, end = _scan_node(seg, pos - seg_start)
                    except (StopIteration, ValueError) as exc:
                        self._bad(buf, seg_start + _error_at(exc, pos - seg_start), exc)
                    props = an.open_node()
                    _fill(an, props, pairs)
                    if props.get(b"Parent Relationship") == "InitPlan":
                        self._initplans = True
                    if end == len(seg):  # the node whose "Plans" key this is
                        stack.append(props)
                        pos = plans_at[1]
                        plans_at, seg_start = None, -1
                        state = _FIRST_CHILD
                        continue
                    an.close_node()
                    pos = seg_start + end
                else:  # no "Plans" key ahead: a node without children, whole unless cut
                    try:
                        pairs, end = _scan_node(buf, pos)
                    except (StopIteration, ValueError) as exc:
                        if self._cut(buf, exc, pos):
                            buf, pos = self._more(buf, pos)
                            plans_at, plans_none, seg_start = None, False, -1
                            continue
                        self._bad(buf, _error_at(exc, pos), exc)
                    props = an.open_node()
                    _fill(an, props, pairs)
                    if props.get(b"Parent Relationship") == "InitPlan":
                        self._initplans = True
                    an.close_node()
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
            elif state in (_NODE_REST, _WRAPPER_REST):
                if char == "}":
                    pos += 1
                    if state == _NODE_REST:
                        stack.pop()
                        an.close_node()
                        state = _NEXT_CHILD if stack else _WRAPPER_REST
                    else:
                        an.end_plan()
                        state = _TOP_NEXT if in_array else _TOP
                elif char == ",":
                    try:
                        name, value, end = self._member(
                            buf, pos + 1, _scan_node if state == _NODE_REST else _scan_value)
                    except (StopIteration, ValueError) as exc:
                        if self._cut(buf, exc, pos + 1):
                            buf, pos = self._more(buf, pos)
                            plans_at, plans_none, seg_start = None, False, -1
                            continue
                        self._bad(buf, _error_at(exc, pos + 1), exc)
                    if state == _NODE_REST:  # keys after "Plans" (a layout with sorted keys)
                        _fill(an, an.late_keys(), [(name, value)])
                        if name == "Parent Relationship" and value == "InitPlan":
                            self._initplans = True
                    else:
                        self._statement(name, value)
                    pos = end
                else:
                    self._fail(buf, pos, "unexpected character", _EXPECTED[state])
            elif state == _WRAPPER:
                found = _PLAN.search(buf, pos)
                if found is None:
                    if not self._eof and len(buf) - pos < _HEAD_LIMIT:
                        buf, pos = self._more(buf, pos)
                        plans_at, plans_none, seg_start = None, False, -1
                        continue
                    self._fail(buf, pos, "an object without a \"Plan\" key",
                               "a PostgreSQL plan")
                self.plans += 1
                an.begin_plan()
                self._head(buf, pos, found.start())
                pos = found.end()
                plans_at, plans_none, seg_start = None, False, -1
                state = _NODE
            else:  # _TOP, _TOP_ARRAY: a plan's object, or psql's list of them
                if char == "{":
                    in_array = state == _TOP_ARRAY
                    state = _WRAPPER
                elif char == "[" and state == _TOP:
                    state = _TOP_ARRAY
                else:
                    self._fail(buf, pos, "unexpected character", _EXPECTED[state])
                pos += 1
        if state != _TOP:
            raise Truncated(f"{self._name}: truncated plan: the input ends at "
                            f"{self._where(buf, len(buf))}, inside the JSON; expected "
                            f"{_EXPECTED[state]}")
        if not self.plans:
            raise InputError(f"{self._name}: not a PostgreSQL plan: JSON without a \"Plan\" "
                             f"key ({self._where(buf, len(buf))})")

    # -- pieces --------------------------------------------------------------------------

    def _leaves(self, buf: str, pos: int, limit: int) -> int:
        """Decode the childless nodes that follow one another from ``pos`` (a ``{``), the
        bulk of any big plan, in one tight loop: returns where the last one ends (before the
        separator after it), or -1 when the first is not one msgspec can take whole.

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
        while True:
            close = find("}", pos, limit) + 1
            if not close:
                return last
            node = _decoded(buf[pos:close], keep_output)
            if node is None:
                return last
            an.leaf(node)
            if node.parent_relationship == "InitPlan":
                self._initplans = keep_output = True
            last = close
            following = sibling(buf, close)
            if following is None or following.end() > reach:
                return last
            pos = following.end()

    def _segment(self, buf: str, start: int, limit: int) -> str:
        """``buf[start:limit]`` (up to a ``"Plans"`` key) with the comma before the key made
        the ``}`` that closes its node's own keys."""
        segment = _own_segment(buf, start, limit)
        if segment:
            return segment
        head = buf[start:limit].rstrip(_WHITESPACE)
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
        head = buf[start:limit].rstrip(_WHITESPACE)
        if not head:
            return
        if not head.endswith(","):
            self._fail(buf, start + len(head), "a \"Plan\" key not preceded by ','",
                       "',' between keys")
        try:
            members = _VALUES.raw_decode("{" + head[:-1] + "}")[0]
        except ValueError as exc:
            self._bad(buf, start + max(0, _error_at(exc, 0) - 1), exc)
        for name, value in members.items():
            self._statement(name, value)

    def _statement(self, name: str, value: Any) -> None:
        if name in _TIMES:
            self._an.plan_value(name, value)
        else:
            statement_value(self._an, name, value)

    # -- input ---------------------------------------------------------------------------

    def _more(self, buf: str, pos: int) -> tuple[str, int]:
        """The buffer from ``pos`` on, with the next chunk of text after it."""
        keep = buf[pos:]
        kept_bytes = len(keep) if keep.isascii() else len(keep.encode())
        self._base_offset += self._buf_bytes - kept_bytes
        chunk = next(self._chunks, None)
        if chunk is None:
            self._eof = True
            text = self._utf8.decode(b"", True)
            size = 0
        else:
            # a character cut by the chunk's end waits in the decoder: count its bytes then
            pending = len(self._utf8.getstate()[0])
            text = self._utf8.decode(chunk)
            self._newlines += _newlines(chunk)
            size = len(chunk) + pending - len(self._utf8.getstate()[0])
        self._buf_bytes = kept_bytes + size
        return keep + text, 0

    # -- errors --------------------------------------------------------------------------

    def _cut(self, buf: str, exc: BaseException, default: int) -> bool:
        """Whether the decoder stopped because the buffer ends (more input may complete
        it), not because the text is wrong."""
        if self._eof:
            return False
        if isinstance(exc, json.JSONDecodeError) and exc.msg.startswith("Unterminated string"):
            return True
        return _error_at(exc, default) >= len(buf) - 16

    def _where(self, buf: str, at: int) -> str:
        # (lines are only ever needed here: what is received, less what lies after ``at``)
        line = self._first_line + self._newlines - buf.count("\n", at)
        before = buf[:at]
        offset = self._base_offset + (len(before) if before.isascii() else len(before.encode()))
        return f"line {line:,}, byte offset {offset:,}"

    def _bad(self, buf: str, at: int, exc: BaseException) -> NoReturn:
        """A node or value the decoder refused at ``at`` (the buffer's index)."""
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else "Expecting value"
        what, expected = _decoder_words(message)
        if self._eof and (at >= len(buf.rstrip(_WHITESPACE)) - 1
                          or message.startswith("Unterminated string")):
            raise Truncated(f"{self._name}: truncated plan: the input ends at "
                            f"{self._where(buf, len(buf))}, inside the JSON ({what} at "
                            f"{self._where(buf, at)}; expected {expected})")
        self._fail(buf, at, what, expected)

    def _fail(self, buf: str, at: int, what: str, expected: str) -> NoReturn:
        found = buf[at:at + 20]
        raise InputError(f"{self._name}: invalid plan JSON at {self._where(buf, at)}: {what} "
                         f"(found {found!r}); expected {expected}")


#: the decoder's messages, in the words of :meth:`NodeScanner._fail`: what, and what was expected
_DECODER_WORDS = (
    ("Expecting ',' delimiter", "a missing ','", "','"),
    ("Expecting ':' delimiter", "a missing ':'", "':'"),
    ("Expecting value", "no value", "a value"),
    ("Expecting property name", "no key", "a key in double quotes"),
    ("Unterminated string", "a string that does not end", "its closing '\"'"),
    ("Invalid control character", "a raw control character in a string",
     "it escaped (\\n, \\t, \\u0000)"),
    ("Invalid \\", "an invalid escape in a string", "a JSON escape"),
)


def _decoder_words(message: str) -> tuple[str, str]:
    for start, what, expected in _DECODER_WORDS:
        if message.startswith(start):
            return what, expected
    return message[:1].lower() + message[1:], "valid JSON"


def _error_at(exc: BaseException, default: int) -> int:
    """Where the decoder stopped: a JSONDecodeError's position, StopIteration's value."""
    if isinstance(exc, json.JSONDecodeError):
        return exc.pos
    if isinstance(exc, StopIteration) and isinstance(exc.value, int):
        return exc.value
    return default
