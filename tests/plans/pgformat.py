"""Writing JSON exactly the way PostgreSQL's EXPLAIN (FORMAT JSON) does.

Two spaces per level, one key per line, lists of scalars on one line (``["a", "b"]``),
lists of objects opened on their own lines. Used to build test plans and benchmark inputs
that take the same path through the analysis as real server output. Iterative, so a
1,000-level plan is no problem.

Test and benchmark code, kept out of the package: ``bench/explain.py`` puts the
repository's root on ``sys.path`` to import it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _inline(value: Any) -> str | None:
    """The one-line form of scalars and lists of scalars; None for containers of objects."""
    if isinstance(value, dict):
        return None
    if isinstance(value, list):
        if any(isinstance(item, dict | list) for item in value):
            return None
        return "[" + ", ".join(_scalar(item) for item in value) + "]"
    return _scalar(value)


def iter_lines(document: Any) -> Iterator[str]:
    """Lines of ``document`` in EXPLAIN's JSON layout (without trailing newlines)."""
    # Each stack entry: (iterator over (key, value) or values, indent, closing bracket).
    first = _inline(document)
    if first is not None:
        yield first
        return
    stack: list[tuple[Iterator[tuple[str | None, Any]], int, str]] = []
    opening = "{" if isinstance(document, dict) else "["
    yield opening
    stack.append((_items(document), 1, "}" if opening == "{" else "]"))
    pending = ""  # the previous line, held back until we know whether it takes a comma
    while stack:
        items, indent, closing = stack[-1]
        entry = next(items, None)
        pad = "  " * indent
        if entry is None:
            stack.pop()
            if pending:
                yield pending
                pending = ""
            yield "  " * (indent - 1) + closing
            if stack:
                pending = ""
            continue
        if pending:
            yield pending + ","
            pending = ""
        key, value = entry
        prefix = pad + (json.dumps(key) + ": " if key is not None else "")
        inline = _inline(value)
        if inline is not None:
            pending = prefix + inline
            continue
        if isinstance(value, dict):
            yield prefix + "{"
            stack.append((_items(value), indent + 1, "}"))
        else:
            yield prefix + "["
            stack.append((_items(value), indent + 1, "]"))
    if pending:
        yield pending


def _items(container: Any) -> Iterator[tuple[str | None, Any]]:
    if isinstance(container, dict):
        yield from container.items()
    else:
        for item in container:
            yield None, item


def dumps(document: Any) -> str:
    """``document`` as EXPLAIN would print it."""
    lines = list(iter_lines(document))
    # Closing brackets followed by a sibling need a comma: fix up in one pass.
    out: list[str] = []
    for index, line in enumerate(lines):
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        needs_comma = line.strip() in ("}", "]") and following not in ("", "}", "]")
        out.append(line + "," if needs_comma else line)
    return "\n".join(out)
