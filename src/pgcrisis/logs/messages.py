"""The server's messages recognised in every language it ships: the templates of
``messages.json`` (written by ``tools/log_messages.py`` from PostgreSQL's own translation
catalogs) turned into regular expressions, looked up by what a message means.

A LOG line carries no SQLSTATE (a lock wait, a checkpoint warning, a duration, a crash), and
an error in a stderr log without ``%e`` neither: the text is then all there is, in the
language of the server's ``lc_messages``. Arguments come back in the order of the English
message, whatever order a translation puts them in (``%2$s``).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

#: a printf conversion of a message template (``%d``, ``%ld``, ``%03d``, ``%2$s``, ``%m``...)
_SPEC = re.compile(r"%(?:(\d+)\$)?[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j|t|L)?([a-zA-Z%])")
_NUMBER = {"d": r"-?\d+", "i": r"-?\d+", "u": r"\d+", "x": r"[0-9a-fA-F]+",
           "X": r"[0-9a-fA-F]+", "o": r"[0-7]+", "f": r"-?[\d.]+"}


def _compile(template: str) -> re.Pattern[str]:
    """The expression of one template: each argument a group named ``a<n>`` (``n``: its place
    in the English message), any run of spaces a run of spaces (translations wrap lines)."""
    tail_lines = template.endswith("\n")
    text = template.rstrip("\n")
    out: list[str] = []
    seen: set[int] = set()
    pos = 0
    sequence = 0
    for m in _SPEC.finditer(text):
        out.append(_literal(text[pos:m.start()]))
        pos = m.end()
        conv = m.group(2)
        if conv == "%":
            out.append("%")
            continue
        if conv == "m":
            out.append(".*?")
            continue
        sequence += 1
        n = int(m.group(1)) if m.group(1) else sequence
        if n in seen:
            out.append(f"(?P=a{n})")
            continue
        seen.add(n)
        after = text[m.end():m.end() + 3]
        if conv in _NUMBER:
            body = _NUMBER[conv]
        elif after.strip().startswith("ms"):
            body = r"\d+(?:\.\d+)?"  # "duration: %s ms": the figure, never the plan after it
        else:
            body = ".*?" if m.end() < len(text) else ".*"
        out.append(f"(?P<a{n}>{body})")
    out.append(_literal(text[pos:]))
    end = r"(?:\s.*)?\Z" if tail_lines else r"\s*\Z"
    return re.compile("".join(out) + end, re.S)


def _literal(text: str) -> str:
    return r"\s+".join(re.escape(part) for part in re.split(r"\s+", text)) if text else ""


@cache
def _table() -> dict[str, tuple[re.Pattern[str], ...]]:
    data = json.loads(resources.files("pgcrisis.logs").joinpath("messages.json")
                      .read_text(encoding="utf-8"))
    return {key: tuple(_compile(t) for t in templates)
            for key, templates in data["messages"].items()}


def languages() -> tuple[str, ...]:
    """The languages the table knows (``en`` first)."""
    data = json.loads(resources.files("pgcrisis.logs").joinpath("messages.json")
                      .read_text(encoding="utf-8"))
    return tuple(data["languages"])


def match(key: str, text: str) -> tuple[str, ...] | None:
    """The arguments of ``text`` read as the message ``key`` in any language (in the English
    message's order), None when it is not that message.

    >>> match("lock-wait", "process 12 still waiting for ShareLock on transaction 9 after "
    ...       "1000.062 ms")
    ('12', 'ShareLock', 'transaction 9', '1000', '062')
    >>> match("ready", "le système de bases de données est prêt pour accepter les connexions")
    ()
    """
    for pattern in _table()[key]:
        m = pattern.match(text)
        if m is not None:
            groups = m.groupdict()
            return tuple(groups[f"a{i}"] for i in range(1, len(groups) + 1))
    return None


def matches(key: str, text: str) -> bool:
    """``text`` is the message ``key`` in some language."""
    return match(key, text) is not None
