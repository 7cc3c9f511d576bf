"""What the node scanner makes of a node's text: where it ends, where the next ``"Plans"``
key is, the node's own keys before that key, and the node decoded (typed by msgspec, or as
key/value pairs by the exact path, whose per-worker JIT figures are read here).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from pgcrisis.errors import InputError
from pgcrisis.plan._analysis import Analyzer
from pgcrisis.plan._node import JsonNode, decode_node
from pgcrisis.plan._textbuffer import WHITESPACE
from pgcrisis.plan._values import Props, num

_PLANS_TAIL = re.compile(r"[ \t\r\n]*:[ \t\r\n]*\[")


def balanced_end(buf: str, start: int, limit: int) -> int:
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


def decoded(span: str, keep_output: bool) -> JsonNode | None:
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


def own_segment(buf: str, start: int, limit: int) -> str:
    """``buf[start:limit]`` (up to a ``"Plans"`` key) with the comma before the key made
    the ``}`` that closes its node's own keys; empty when no comma or ``{`` precedes it."""
    head = buf[start:limit].rstrip(WHITESPACE)
    if head.endswith(","):
        return head[:-1] + "}"
    if head.endswith("{"):
        return head + "}"
    return ""


def next_plans(buf: str, pos: int) -> tuple[int, int] | None:
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


class _KeyBytes(dict[str, bytes]):
    """Node keys as the analyzer's dict holds them (bytes),
    looked up in C; a key not seen before is encoded once."""

    def __missing__(self, name: str) -> bytes:
        raw = name.encode()
        if len(self) < 10_000:
            self[name] = raw
        return raw


_KEY_OF = _KeyBytes().__getitem__


def fill(an: Analyzer, props: Props, pairs: list[tuple[str, Any]]) -> None:
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
