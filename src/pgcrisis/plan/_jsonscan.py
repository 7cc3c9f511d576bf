"""The general JSON path: a streaming tokenizer and an iterative (stack, not recursion)
parser that understands where plan nodes are, for any JSON layout (compacted by jq or by
``--compact``, pretty-printed by another tool, one plan or psql's array, several documents
one after another).

Node objects (``"Plan"`` and the elements of ``"Plans"``) are never built: their scalar keys
go straight into the analyzer's per-node dict. Only small values are built whole: a node's
lists (``Output``, ``Sort Key``), per-worker details, and the statement-level ``JIT``,
``Triggers`` and ``Serialization`` objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, NoReturn

from pgcrisis.errors import InputError
from pgcrisis.plan._analysis import Analyzer
from pgcrisis.plan._source import Position
from pgcrisis.plan._values import num
from pgcrisis.plan.model import TriggerStat

_TOKEN = re.compile(rb"[ \t\r\n]*(?:(\")|([-0-9][-+.eE0-9]*)|([{}\[\]:,])|(true|false|null))")
_STRING = re.compile(rb'(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_STRING_PREFIX = re.compile(
    rb'(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*(?:\\(?:u[0-9a-fA-F]{0,3})?)?\Z')
_MAX_STRING = 256 << 20
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")
_SPACE = re.compile(rb"[ \t\r\n]*")

# contexts
_ROOT, _TOPARR, _PLANOBJ, _NODE, _PLANS, _COBJ, _CARR = range(7)
# expectations
_VALUE, _KEY_OR_END, _KEY, _COLON, _COMMA_OR_END, _VALUE_OR_END = range(6)
_EXPECTED = {
    _VALUE: "a value", _KEY_OR_END: "a key or '}'", _KEY: "a key (a string)",
    _COLON: "':'", _COMMA_OR_END: "',' or the end of the object/array",
    _VALUE_OR_END: "a value or ']'",
}
_LITERALS: dict[bytes, Any] = {b"true": True, b"false": False, b"null": None}


class Truncated(InputError):
    """The JSON stopped early (as opposed to being wrong): raised for cut-off input."""


def valid_prefix(head: bytes) -> bool:
    """Whether ``head`` is the correct beginning of a JSON plan (syntax checked, the end may
    be cut off anywhere). Used to vet the start of an input before reading it node by node."""
    from pgcrisis.plan._analysis import Analyzer
    from pgcrisis.plan._source import Position

    try:
        JsonScanner(Analyzer(), "head").feed([head], Position())
    except Truncated:
        return True
    except InputError:
        return False
    return True


class _Container:
    __slots__ = ("ctx", "is_object", "key", "saw_plan", "value")

    def __init__(self, ctx: int, is_object: bool, value: Any = None) -> None:
        self.ctx = ctx
        self.is_object = is_object
        self.key: str | None = None
        self.value = value
        self.saw_plan = False


class JsonScanner:
    """Parses any JSON layout of EXPLAIN output into analyzer events."""

    def __init__(self, analyzer: Analyzer, name: str) -> None:
        self._an = analyzer
        self._name = name
        self.plans = 0
        self._chunks: Iterator[bytes] = iter(())
        self._eof = False
        self._base_offset = 0   # input offset of the buffer's first byte
        self._base_line = 1     # its line
        self._documents = 0     # top-level values read

    def feed(self, chunks: Iterable[bytes], position: Position) -> None:
        """Parse everything; raise :class:`InputError` with line and byte offset on bad input.

        One pass of the loop per token (a few bytes), with the buffer, the position and
        what is expected next in local variables; what is rarer than a token (reading on,
        a string cut by a chunk's end, the end of the input) is in methods, and so are the
        checks that go with a bracket, in the call made for each anyway.
        """
        self._chunks = iter(chunks)
        stack: list[_Container] = [_Container(_ROOT, False)]
        expect = _VALUE
        buf = b""
        pos = 0
        token_match = _TOKEN.match
        while True:
            match = token_match(buf, pos)
            needs_more = match is None or (match.end() == len(buf) and match.group(2) is not None)
            if needs_more and not self._eof:
                more = self._more(buf, pos)
                buf, pos = (buf, pos) if more is None else (more, 0)
                continue
            if match is None:
                self._ended(buf, pos, expect, len(stack))
                return
            quote, number, punct, literal = match.groups()
            start = match.end() - 1 if quote else match.start(2) if number else \
                match.start(3) if punct else match.start(4)
            pos = match.end()
            top = stack[-1]
            if quote:
                smatch = _STRING.match(buf, pos)
                if smatch is None:  # the string runs on into the next chunk
                    buf, pos, smatch = self._string_on(buf, pos, start, expect)
                    start = 0
                raw = buf[pos:smatch.end() - 1]
                pos = smatch.end()
                value: Any = json.loads(b'"' + raw + b'"') if b"\\" in raw \
                    else raw.decode("utf-8", "replace")
                if expect in (_KEY_OR_END, _KEY):
                    top.key = value
                    expect = _COLON
                    continue
                if expect not in (_VALUE, _VALUE_OR_END):
                    self._fail(buf, start, "unexpected string", expect)
                self._scalar(top, value, buf, start)
                expect = _COMMA_OR_END
            elif number is not None or literal is not None:
                if expect not in (_VALUE, _VALUE_OR_END):
                    self._fail(buf, start, "unexpected value", expect)
                if number is not None:
                    if not _NUMBER.match(number):
                        self._fail(buf, start, "invalid number", expect)
                    value = float(number) if b"." in number or b"e" in number \
                        or b"E" in number else int(number)
                else:
                    value = _LITERALS[literal]
                self._scalar(top, value, buf, start)
                expect = _COMMA_OR_END
            elif punct == b":":
                if expect != _COLON:
                    self._fail(buf, start, "unexpected ':'", expect)
                expect = _VALUE
            elif punct == b",":
                if expect != _COMMA_OR_END or top.ctx == _ROOT:
                    self._fail(buf, start, "unexpected ','", expect)
                expect = _KEY if top.is_object else _VALUE
            elif punct in (b"{", b"["):
                expect = self._open(stack, punct == b"{", expect, buf, start)
            else:  # } or ]
                expect = self._close(stack, punct == b"}", expect, buf, start)

    # -- input ---------------------------------------------------------------------------

    def _more(self, buf: bytes, keep: int) -> bytes | None:
        """``buf`` from ``keep`` on with the next chunk after it; ``None`` at the end."""
        chunk = next(self._chunks, None)
        if chunk is None:
            self._eof = True
            return None
        self._base_line += buf.count(b"\n", 0, keep)
        self._base_offset += keep
        return buf[keep:] + chunk

    def _string_on(self, buf: bytes, pos: int, start: int,
                   expect: int) -> tuple[bytes, int, re.Match[bytes]]:
        """A string whose opening quote is at ``start`` and whose text from ``pos`` on is
        cut by the buffer's end: read on until it ends. Returns the buffer (from that quote
        on), where the string's text starts in it, and its match."""
        while True:
            valid = _STRING_PREFIX.match(buf, pos) is not None
            if self._eof or not valid or len(buf) - start > _MAX_STRING:
                self._fail(buf, start, "unterminated or invalid string", expect,
                           truncated=self._eof and valid)
            more = self._more(buf, start)
            if more is None:
                continue
            buf, pos, start = more, pos - start, 0
            smatch = _STRING.match(buf, pos)
            if smatch is not None:
                return buf, pos, smatch

    def _ended(self, buf: bytes, pos: int, expect: int, depth: int) -> None:
        """No token at ``pos`` and no more input: fine between documents, having read one."""
        rest = _SPACE.match(buf, pos)
        end = rest.end() if rest else pos
        if end >= len(buf):
            if depth == 1 and self._documents:
                return
            self._fail(buf, end, "the input ends early", expect)
        self._fail(buf, end, "unexpected character", expect)

    # -- structure -----------------------------------------------------------------------

    def _open(self, stack: list[_Container], is_object: bool, expect: int, buf: bytes,
              at: int) -> int:
        """A ``{`` or ``[`` where ``expect``-ed: what it opens (a plan, a node, a node's
        ``"Plans"``, a value kept whole); returns what is expected next."""
        if expect not in (_VALUE, _VALUE_OR_END):
            self._fail(buf, at, "unexpected '{'" if is_object else "unexpected '['", expect)
        stack.append(self._child(stack[-1], is_object, buf, at))
        return _KEY_OR_END if is_object else _VALUE_OR_END

    def _child(self, parent: _Container, is_object: bool, buf: bytes, at: int) -> _Container:
        ctx = parent.ctx
        key = parent.key
        if ctx == _ROOT:
            if is_object:
                return self._plan_object()
            return _Container(_TOPARR, False)
        if ctx == _TOPARR:
            if not is_object:
                self._fail(buf, at, "an array inside the plan list", _VALUE,
                           expected="a plan object '{'")
            return self._plan_object()
        if ctx == _PLANOBJ and key == "Plan":
            if not is_object:
                self._fail(buf, at, "\"Plan\" is not an object", _VALUE, expected="'{'")
            parent.saw_plan = True
            return _Container(_NODE, True, self._an.open_node())
        if ctx == _NODE and key == "Plans":
            if is_object:
                self._fail(buf, at, "\"Plans\" is not an array", _VALUE, expected="'['")
            return _Container(_PLANS, False)
        if ctx == _PLANS:
            if not is_object:
                self._fail(buf, at, "a non-object in \"Plans\"", _VALUE,
                           expected="a node object '{'")
            return _Container(_NODE, True, self._an.open_node())
        return _Container(_COBJ if is_object else _CARR, is_object, {} if is_object else [])

    def _plan_object(self) -> _Container:
        self.plans += 1
        self._an.begin_plan()
        return _Container(_PLANOBJ, True)

    def _scalar(self, top: _Container, value: Any, buf: bytes, at: int) -> None:
        """A string, number or literal value: into the node's dict, the value kept whole,
        or the plan's figures."""
        ctx = top.ctx
        if ctx == _NODE:
            assert top.key is not None
            top.value[top.key.encode()] = value
        elif ctx == _COBJ:
            top.value[top.key] = value
        elif ctx == _CARR:
            top.value.append(value)
        elif ctx == _PLANOBJ:
            if top.key in ("Planning Time", "Execution Time", "Total Runtime"):
                self._an.plan_value(top.key, value)
        else:
            self._fail(buf, at, "a bare value where a plan belongs", _VALUE,
                       expected="a plan object '{' or psql's array '['")

    def _close(self, stack: list[_Container], closing_object: bool, expect: int, buf: bytes,
               at: int) -> int:
        """A ``}`` or ``]``: it must close what is open, where a value may end; returns what
        is expected next."""
        top = stack[-1]
        empty_ok = _KEY_OR_END if closing_object else _VALUE_OR_END
        ok = (top.ctx != _ROOT and top.is_object == closing_object
              and expect in (_COMMA_OR_END, empty_ok))
        if not ok:
            self._fail(buf, at, "unexpected '}'" if closing_object else "unexpected ']'",
                       expect)
        stack.pop()
        self._closed(top, stack[-1], buf, at)
        if len(stack) == 1:
            self._documents += 1
            return _VALUE
        return _COMMA_OR_END

    def _closed(self, top: _Container, parent: _Container, buf: bytes, at: int) -> None:
        ctx = top.ctx
        if ctx == _NODE:
            self._an.close_node()
        elif ctx == _PLANOBJ:
            if not top.saw_plan:
                self._fail(buf, at, "an object without a \"Plan\" key", _VALUE,
                           expected="a PostgreSQL plan")
            self._an.end_plan()
        elif ctx in (_COBJ, _CARR):
            if parent.ctx == _NODE:
                assert parent.key is not None
                if ctx == _CARR and not any(isinstance(v, dict | list) for v in top.value):
                    parent.value[parent.key.encode()] = top.value
                elif ctx == _COBJ and parent.key == "JIT":  # PostgreSQL 12: per worker
                    timing = top.value.get("Timing")
                    if isinstance(timing, dict):
                        self._an.worker_jit(num(timing.get("Total")))
                elif ctx == _CARR and parent.key == "Workers":
                    for worker in top.value:
                        jit = worker.get("JIT") if isinstance(worker, dict) else None
                        timing = jit.get("Timing") if isinstance(jit, dict) else None
                        if isinstance(timing, dict):
                            self._an.worker_jit(num(timing.get("Total")))
            elif parent.ctx == _COBJ:
                parent.value[parent.key] = top.value
            elif parent.ctx == _CARR:
                parent.value.append(top.value)
            elif parent.ctx == _PLANOBJ:
                statement_value(self._an, parent.key, top.value)

    def _fail(self, buf: bytes, at: int, what: str, expect: int, *,
              expected: str | None = None, truncated: bool = False) -> NoReturn:
        offset = self._base_offset + at
        line_no = self._base_line + buf.count(b"\n", 0, at)
        if truncated:
            raise Truncated(f"{self._name}: truncated plan: the input ends inside a string that "
                            f"starts at line {line_no}, byte offset {offset}")
        if at >= len(buf.rstrip()) and what == "the input ends early":
            raise Truncated(
                f"{self._name}: truncated plan: the input ends at line {line_no}, byte offset "
                f"{offset}, inside the JSON; expected {expected or _EXPECTED[expect]}")
        found = buf[at:at + 20].decode("utf-8", "replace")
        raise InputError(f"{self._name}: invalid plan JSON at line {line_no}, byte offset "
                         f"{offset}: {what} (found {found!r}); expected "
                         f"{expected or _EXPECTED[expect]}")


def statement_value(an: Analyzer, key: str | None, value: Any) -> None:
    """A statement-level object or list (beside ``"Plan"``): JIT, triggers, serialization."""
    if key == "JIT" and isinstance(value, dict):
        timing = value.get("Timing")
        total = num(timing.get("Total")) if isinstance(timing, dict) else 0.0
        functions = value.get("Functions")
        an.jit(total, int(functions) if isinstance(functions, int) else None)
    elif key == "Triggers" and isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                an.trigger(TriggerStat(
                    name=str(item.get("Trigger Name", "?")),
                    relation=_opt_str(item.get("Relation")),
                    constraint=_opt_str(item.get("Constraint Name")),
                    time_ms=num(item.get("Time")),
                    calls=int(num(item.get("Calls"))),
                ))
    elif key == "Serialization" and isinstance(value, dict):
        an.serialization(num(value.get("Time")))


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
