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
from collections.abc import Iterable
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

    def feed(self, chunks: Iterable[bytes], position: Position) -> None:
        """Parse everything; raise :class:`InputError` with line and byte offset on bad input."""
        stack: list[_Container] = [_Container(_ROOT, False)]
        expect = _VALUE
        buf = b""
        pos = 0
        base_offset = 0   # input offset of buf[0]
        base_line = 1
        documents = 0
        iterator = iter(chunks)
        eof = False
        token_match = _TOKEN.match
        while True:
            match = token_match(buf, pos)
            needs_more = match is None or (match.end() == len(buf) and match.group(2) is not None)
            if needs_more and not eof:
                chunk = next(iterator, None)
                if chunk is None:
                    eof = True
                else:
                    base_line += buf.count(b"\n", 0, pos)
                    base_offset += pos
                    buf = buf[pos:] + chunk
                    pos = 0
                continue
            if match is None:
                rest = _SPACE.match(buf, pos)
                end = rest.end() if rest else pos
                if end >= len(buf):
                    if len(stack) == 1 and documents:
                        return
                    self._fail(buf, end, base_offset, base_line, "the input ends early",
                               expect, documents)
                self._fail(buf, end, base_offset, base_line, "unexpected character",
                           expect, documents)
            quote, number, punct, literal = match.groups()
            start = match.end() - 1 if quote else match.start(2) if number else \
                match.start(3) if punct else match.start(4)
            pos = match.end()
            top = stack[-1]
            if quote:
                smatch = _STRING.match(buf, pos)
                while smatch is None:
                    valid = _STRING_PREFIX.match(buf, pos) is not None
                    if eof or not valid or len(buf) - start > _MAX_STRING:
                        self._fail(buf, start, base_offset, base_line,
                                   "unterminated or invalid string", expect, documents,
                                   truncated=eof and valid)
                    chunk = next(iterator, None)
                    if chunk is None:
                        eof = True
                        continue
                    base_line += buf.count(b"\n", 0, start)
                    base_offset += start
                    buf = buf[start:] + chunk
                    pos -= start
                    start = 0
                    smatch = _STRING.match(buf, pos)
                raw = buf[pos:smatch.end() - 1]
                pos = smatch.end()
                value: Any = json.loads(b'"' + raw + b'"') if b"\\" in raw \
                    else raw.decode("utf-8", "replace")
                if expect in (_KEY_OR_END, _KEY):
                    top.key = value
                    expect = _COLON
                    continue
                if expect not in (_VALUE, _VALUE_OR_END):
                    self._fail(buf, start, base_offset, base_line, "unexpected string",
                               expect, documents)
                self._scalar(top, value, buf, start, base_offset, base_line, documents)
                expect = _COMMA_OR_END
            elif number is not None or literal is not None:
                if expect not in (_VALUE, _VALUE_OR_END):
                    self._fail(buf, start, base_offset, base_line, "unexpected value",
                               expect, documents)
                if number is not None:
                    if not _NUMBER.match(number):
                        self._fail(buf, start, base_offset, base_line, "invalid number",
                                   expect, documents)
                    value = float(number) if b"." in number or b"e" in number \
                        or b"E" in number else int(number)
                else:
                    value = _LITERALS[literal]
                self._scalar(top, value, buf, start, base_offset, base_line, documents)
                expect = _COMMA_OR_END
            elif punct == b":":
                if expect != _COLON:
                    self._fail(buf, start, base_offset, base_line, "unexpected ':'",
                               expect, documents)
                expect = _VALUE
            elif punct == b",":
                if expect != _COMMA_OR_END or top.ctx == _ROOT:
                    self._fail(buf, start, base_offset, base_line, "unexpected ','",
                               expect, documents)
                expect = _KEY if top.is_object else _VALUE
            elif punct in (b"{", b"["):
                if expect not in (_VALUE, _VALUE_OR_END):
                    self._fail(buf, start, base_offset, base_line,
                               f"unexpected '{punct.decode()}'", expect, documents)
                is_object = punct == b"{"
                child = self._open(top, is_object, buf, start, base_offset, base_line,
                                   documents)
                stack.append(child)
                expect = _KEY_OR_END if is_object else _VALUE_OR_END
            else:  # } or ]
                closing_object = punct == b"}"
                empty_ok = _KEY_OR_END if closing_object else _VALUE_OR_END
                ok = (top.ctx != _ROOT and top.is_object == closing_object
                      and expect in (_COMMA_OR_END, empty_ok))
                if not ok:
                    self._fail(buf, start, base_offset, base_line,
                               f"unexpected '{punct.decode()}'", expect, documents)
                stack.pop()
                self._close(top, stack[-1], buf, start, base_offset, base_line, documents)
                expect = _COMMA_OR_END
                if len(stack) == 1:
                    documents += 1
                    expect = _VALUE

    # -- structure -----------------------------------------------------------------------

    def _open(self, parent: _Container, is_object: bool, buf: bytes, at: int, base: int,
              line: int, documents: int) -> _Container:
        ctx = parent.ctx
        key = parent.key
        if ctx == _ROOT:
            if is_object:
                return self._plan_object()
            return _Container(_TOPARR, False)
        if ctx == _TOPARR:
            if not is_object:
                self._fail(buf, at, base, line, "an array inside the plan list", _VALUE,
                           documents, expected="a plan object '{'")
            return self._plan_object()
        if ctx == _PLANOBJ and key == "Plan":
            if not is_object:
                self._fail(buf, at, base, line, "\"Plan\" is not an object", _VALUE,
                           documents, expected="'{'")
            parent.saw_plan = True
            return _Container(_NODE, True, self._an.open_node())
        if ctx == _NODE and key == "Plans":
            if is_object:
                self._fail(buf, at, base, line, "\"Plans\" is not an array", _VALUE,
                           documents, expected="'['")
            return _Container(_PLANS, False)
        if ctx == _PLANS:
            if not is_object:
                self._fail(buf, at, base, line, "a non-object in \"Plans\"", _VALUE,
                           documents, expected="a node object '{'")
            return _Container(_NODE, True, self._an.open_node())
        return _Container(_COBJ if is_object else _CARR, is_object, {} if is_object else [])

    def _plan_object(self) -> _Container:
        self.plans += 1
        self._an.begin_plan()
        return _Container(_PLANOBJ, True)

    def _scalar(self, top: _Container, value: Any, buf: bytes, at: int, base: int,
                line: int, documents: int) -> None:
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
            self._fail(buf, at, base, line, "a bare value where a plan belongs", _VALUE,
                       documents, expected="a plan object '{' or psql's array '['")

    def _close(self, top: _Container, parent: _Container, buf: bytes, at: int, base: int,
               line: int, documents: int) -> None:
        ctx = top.ctx
        if ctx == _NODE:
            self._an.close_node()
        elif ctx == _PLANOBJ:
            if not top.saw_plan:
                self._fail(buf, at, base, line, "an object without a \"Plan\" key", _VALUE,
                           documents, expected="a PostgreSQL plan")
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

    def _fail(self, buf: bytes, at: int, base: int, line: int, what: str, expect: int,
              documents: int, *, expected: str | None = None,
              truncated: bool = False) -> NoReturn:
        offset = base + at
        line_no = line + buf.count(b"\n", 0, at)
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
