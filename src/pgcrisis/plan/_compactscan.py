"""The fast path for JSON in any other layout: compacted (``jq -c``, ``--compact``), or
pretty-printed by another tool.

Without line structure, nesting comes from the brackets: per chunk, numpy marks what lies
inside strings (after escaped quotes and backslashes are masked) and a running sum of
``{[`` minus ``}]`` outside strings gives each byte's depth. A key's depth times two is
exactly the indentation PostgreSQL would have printed it at, so the keys the analysis
needs, found by one regular expression, go through the same node logic as the indented
fast path. A key can only match where its quotes are real (escaped quotes are masked).

It checks structure only at the end (a truncated input leaves open brackets or a string);
the strict parser in ``_jsonscan`` stays the choice for inputs small enough to parse whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from pgcrisis.errors import InputError
from pgcrisis.plan._fastscan import _KEY_NAMES, FastScanner, key_trie
from pgcrisis.plan._source import Position
from pgcrisis.plan._values import num

_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'  # unrolled: far faster in re than (a|b)*
_VALUE = (rb"(" + _STRING + rb"|-?[0-9][-+.eE0-9]*|true|false|null|\[\s*(?:" + _STRING
          + rb"\s*,\s*)*(?:" + _STRING + rb")?\s*\]|[\[{])")
_KEY = re.compile(rb'"(' + key_trie(_KEY_NAMES) + rb')"\s*:\s*' + _VALUE)
_OPEN = (0x7B, 0x5B)
_CLOSE = (0x7D, 0x5D)


class CompactScanner(FastScanner):
    """Feeds the analyzer from JSON whose lines say nothing about nesting."""

    def feed(self, chunks: Iterable[bytes], position: Position) -> None:
        """Scan all chunks; raise :class:`InputError` if the input ends early."""
        carry = b""
        depth = 0          # depth at the start of ``carry``
        for chunk in chunks:
            buf = carry + chunk
            cut, depth, _, _ = self._scan(buf, depth, final=False)
            carry = buf[cut:]
        _, _, end_depth, in_string = self._scan(carry, depth, final=True)
        offset = position.offset
        if in_string or end_depth != 0:
            where = "inside a string" if in_string else f"with {end_depth} open bracket(s)"
            raise InputError(f"{self._name}: truncated plan: the input ends {where} at byte "
                             f"offset {offset}")
        self._close_plan(f"byte offset {offset}")

    def _scan(self, buf: bytes, depth: int, *, final: bool) -> tuple[int, int, int, bool]:
        """Handle the complete keys of ``buf`` (which starts outside any string).

        Returns where the unprocessed rest starts, the depth there, and the depth and
        string state at the end of ``buf``.
        """
        if not buf:
            return 0, depth, depth, False
        work = buf
        if b"\\" in buf:  # same-length masks, so offsets still match ``buf``
            work = buf.replace(b"\\\\", b"\x00\x00").replace(b'\\"', b"\x01\x01")
        data = np.frombuffer(work, dtype=np.uint8)
        quotes = np.flatnonzero(data == 0x22)
        bounds = np.empty(len(quotes) + 2, dtype=np.int64)
        bounds[0] = 0
        bounds[1:-1] = quotes
        bounds[-1] = len(data)
        flags = np.zeros(len(bounds) - 1, dtype=np.bool_)
        flags[1::2] = True
        outside = ~np.repeat(flags, np.diff(bounds))
        delta = ((data == _OPEN[0]) | (data == _OPEN[1])).astype(np.int32)
        delta -= (data == _CLOSE[0]) | (data == _CLOSE[1])
        delta *= outside
        depths = np.cumsum(delta, dtype=np.int32)
        depths += depth
        end_depth = int(depths[-1])
        end_in_string = len(quotes) % 2 == 1

        matches = list(_KEY.finditer(work))
        if not final:
            if matches:
                last = matches.pop()
                cut = last.start()
            else:  # no key at all: restart after the last comma outside strings
                commas = np.flatnonzero((data == 0x2C) & outside)
                if len(commas) == 0:
                    return 0, depth, end_depth, end_in_string
                cut = int(commas[-1]) + 1
            cut_depth = int(depths[cut - 1]) if cut > 0 else depth
        else:
            cut, cut_depth = len(buf), end_depth
        if matches:
            starts = np.fromiter((m.start() for m in matches), dtype=np.int64,
                                 count=len(matches))
            levels = depths[starts].tolist()
            masked = work is not buf
            self._keys(matches, levels, masked)
        return cut, cut_depth, end_depth, end_in_string

    def _keys(self, matches: list[re.Match[bytes]], levels: list[int], masked: bool) -> None:
        an = self._an
        names = _KEY_NAMES
        indents = self._indents
        props = self._props
        cur = indents[-1] if indents else -1
        for match, level in zip(matches, levels, strict=True):
            raw_key, value = match.group(1, 2)
            if masked and (b"\x00" in value or b"\x01" in value):
                value = value.replace(b"\x01\x01", b'\\"').replace(b"\x00\x00", b"\\\\")
            n = 2 * level
            if n < cur:
                while indents and indents[-1] > n:
                    indents.pop()
                    an.close_node()
                cur = indents[-1] if indents else -1
                props = None
            if n == cur:
                if raw_key == b"Node Type":
                    an.close_node()
                    props = an.open_node()
                if props is not None:
                    props[raw_key] = value
            elif raw_key == b"Node Type":
                if self._plan_indent < 0:
                    continue
                indents.append(n)
                cur = n
                props = an.open_node()
                props[raw_key] = value
            elif not indents:
                self._plan_line(n, names[raw_key], value)
            elif raw_key == b"Total" and n in (cur + 4, cur + 8):  # a worker's JIT
                an.worker_jit(num(value))
        self._props = props
