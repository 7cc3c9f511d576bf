"""Writing stderr lines as the server does with a given ``log_line_prefix``: the tests' own
renderer of escapes (what the reader must read back)."""

from __future__ import annotations

import re

#: a session's values, by escape
VALUES = {"a": "psql", "u": "alice", "d": "shop", "r": "10.0.0.7(51234)", "h": "10.0.0.7",
          "p": "4242", "t": "2026-11-26 09:14:03 UTC", "m": "2026-11-26 09:14:03.250 UTC",
          "n": "1764148443.250", "e": "22012", "c": "6745a1b2.1092", "l": "7",
          "s": "2026-11-26 09:00:00 UTC", "v": "3/15", "x": "0", "Q": "-12345",
          "b": "client backend", "i": "SELECT", "P": "", "L": "10.0.0.1", "%": "%"}


def render(prefix: str, severity: str, text: str, values: dict[str, str] | None = None,
           session: bool = True) -> str:
    """The line the server writes (``session``: False stops at ``%q``, as for a
    background process)."""
    vals = {**VALUES, **(values or {})}
    out: list[str] = []
    for m in re.finditer(r"%(-?\d*)(.)|([^%]+)", prefix):
        if m.group(3) is not None:
            out.append(m.group(3))
        elif m.group(2) == "q":
            if not session:
                break
        else:
            width = int(m.group(1) or 0)
            value = vals[m.group(2)]
            out.append(value.ljust(-width) if width < 0 else value.rjust(width))
    return "".join(out) + f"{severity}:  {text}"
