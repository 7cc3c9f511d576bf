"""``log_line_prefix`` as a regular expression of the server's stderr lines, given or inferred
from the lines themselves (the common prefixes tried first, else one built from the lines'
shape), so a log is read whatever prefix wrote it.

>>> p = Prefix("%m [%p] ")
>>> line = "2026-11-26 09:14:03.250 UTC [42] ERROR: division by zero"
>>> m = p.regex.match(line)
>>> m["t"], m["pid"], m["level"], line[m.end():]
('2026-11-26 09:14:03.250 UTC', '42', 'ERROR', 'division by zero')
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from pgcrisis.errors import InputError
from pgcrisis.logs.severity_words import words_pattern

_ZONE = r"(?: (?:[A-Za-z][A-Za-z0-9_/+-]*|[+-]\d\d(?:\d\d)?))?"
_SECONDS = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
#: each escape: (named group or "", what its value reads as)
ESCAPES: dict[str, tuple[str, str]] = {
    "a": ("app", r".*?"), "u": ("user", r"\S*?"), "d": ("db", r"\S*?"),
    "r": ("client", r"\S*?"), "h": ("client", r"\S*?"), "L": ("", r"\S*?"),
    "b": ("btype", r".*?"), "p": ("pid", r"\d+"), "P": ("", r"\d*"),
    "t": ("t", _SECONDS + _ZONE), "m": ("t", _SECONDS + r"\.\d+" + _ZONE),
    "n": ("n", r"\d+\.\d+"), "i": ("", r".*?"), "e": ("state", r"[0-9A-Z]{5}"),
    "c": ("session", r"[0-9a-f]+\.[0-9a-f]+"), "l": ("", r"\d+"),
    "s": ("", _SECONDS + _ZONE), "v": ("", r"\S*?"), "x": ("", r"\d+"),
    "Q": ("qid", r"-?\d+"),
}
#: the severity word, ``:`` and one or two spaces (``FEHLER:  ``, ``ERROR: ``,
#: ``INSTRUCTION :  ``), then the message
LEVEL = r"(?P<level>[A-Z]+[1-5]?|" + words_pattern(plain=False) + r") ?: {1,2}"
#: the groups a record is built from, in this order (:attr:`Prefix.groups`)
GROUPS = ("t", "n", "pid", "user", "db", "app", "client", "btype", "session", "state", "qid")

#: prefixes seen in the wild, tried first when the prefix is not known
COMMON = (
    "%m [%p] ", "%m [%p] %q%u@%d ", "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: user=%u,db=%d,app=%a,client=%h ", "%t:%r:%u@%d:[%p]:",
    "%m [%p]: [%l-1] db=%d,user=%u ", "%t-%c-", "%m [%p] %q[user=%u,db=%d,app=%a] ",
    "%t [%p-%l] %q%u@%d ", "%m [%p] %q%u@%d %a ", "%m [%p] %e ", "%m [%p] %q%u@%d %e ",
    "%m [%p] %q%u@%d [%Q] ", "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%m [%p] %q%a ", "%t [%p] ", "%m %c ", "%m [%p-%l] ", "%t [%p]: [%l-1] ",
    "%m [%p]: ", "%m:%r:%u@%d:[%p]:", "%m [%b] [%p] ", "",
)


class Prefix:
    """A ``log_line_prefix``, its regex (the whole line: prefix, severity, message) and what
    its lines carry: time, pid, session, SQLSTATE."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        # the first group is always empty: where a group the prefix lacks is read from
        self.regex = re.compile("(?P<none>)" + _body(prefix) + LEVEL)
        names = self.regex.groupindex
        #: the index of each of :data:`GROUPS` (1, the empty group, when not in the prefix)
        self.groups = tuple(names.get(g, 1) for g in GROUPS)
        self.has_time = "t" in names or "n" in names
        #: what a line's process is told by (the key DETAIL/STATEMENT lines attach by)
        self.who = "pid" if "pid" in names else "session" if "session" in names else ""
        #: the prefix writes each message's SQLSTATE (``%e``)
        self.knows_sqlstate = "state" in names

    def __repr__(self) -> str:
        return f"Prefix({self.prefix!r})"

    def matches(self, lines: Sequence[str]) -> int:
        """How many of ``lines`` this prefix reads."""
        match = self.regex.match
        return sum(1 for line in lines if match(line))


def _body(prefix: str) -> str:
    """The regex of the prefix's text (``%q``: what follows may be missing)."""
    out: list[str] = []
    seen: set[str] = set()
    optional, i = 0, 0
    while i < len(prefix):
        ch = prefix[i]
        i += 1
        if ch != "%":
            out.append(re.escape(ch))
            continue
        pad = re.match(r"-?\d*", prefix[i:])
        i += pad.end() if pad else 0
        esc = prefix[i] if i < len(prefix) else ""
        i += 1
        if esc == "%":
            out.append("%")
        elif esc == "q":
            out.append("(?:")
            optional += 1
        elif esc in ESCAPES:
            name, value = ESCAPES[esc]
            group = f"(?P<{name}>{value})" if name and name not in seen else f"(?:{value})"
            seen.add(name)
            out.append(f" *{group} *" if pad and pad.end() else group)
        else:
            raise InputError(f"log_line_prefix {prefix!r}: %{esc} is not an escape "
                             "PostgreSQL writes (expected one of %a %u %d %r %h %p %t %m...)")
    return "".join(out) + ")?" * optional


# -- inference -------------------------------------------------------------------------------

_WORD = re.compile(r"(?:" + words_pattern() + r") ?: ")
#: a piece of a prefix as the server writes it -> the escapes that wrote it
_TOKENS = [
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+" + _ZONE), "%m"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d" + _ZONE), "%t"),
    (re.compile(r"\d{9,10}\.\d{3}"), "%n"),
    (re.compile(r"\[\d+-\d+\]"), "[%p-%l]"),
    (re.compile(r"\[\d+\]"), "[%p]"),
    (re.compile(r"[0-9a-f]{6,}\.[0-9a-f]+"), "%c"),
    (re.compile(r"(?:\d+\.\d+\.\d+\.\d+|\[local\]|[0-9a-f:]+:[0-9a-f:]*)\(\d+\)"), "%r"),
    (re.compile(r"(pid|user|usr|db|database|app|application|client|host|remote|sqlstate|"
                r"state|queryid|query_id)=(?:\[[^\]]*\]|[^\s,\]]*)"), "key"),
    (re.compile(r"[\w\[\]-]*@[\w\[\]-]*"), "%u@%d"),
    # a SQLSTATE (checked by _is_sqlstate: five digits may be a pid)
    (re.compile(r"[0-9A-Z]{5}(?= |$)"), "%e"),
    (re.compile(r"\d+"), "%p"),
    # a value the reader cannot name (read, not kept)
    (re.compile(r"[^\s\[\]():@,=|]+"), "%v"),
]
_KEYS = {"pid": "%p", "user": "%u", "usr": "%u", "db": "%d", "database": "%d", "app": "%a",
         "application": "%a", "client": "%h", "host": "%h", "remote": "%h", "sqlstate": "%e",
         "state": "%e", "queryid": "%Q", "query_id": "%Q"}


def shape(line: str) -> str | None:
    """The prefix that wrote ``line``, built from its shape (None: no severity word in it).

    >>> shape("2026-11-26 09:14:03 UTC [42]: app=psql,client=[local] LOG:  x")
    '%t [%p]: app=%a,client=%h '
    """
    found = _WORD.search(line)
    if found is None:
        return None
    head, i = line[:found.start()], 0
    out: list[str] = []
    while i < len(head):
        for regex, token in _TOKENS:
            m = regex.match(head, i)
            if m is None or not m.group():
                continue
            escape = f"{m.group(1)}={_KEYS[m.group(1)]}" if token == "key" else token
            if escape == "%e" and not _is_sqlstate(m.group(), out, head[m.end():]):
                continue
            if escape == "%p" and any("%p" in o for o in out):
                escape = "%v"  # a number after the pid: a line number, an xid...
            out.append(escape)
            i = m.end()
            break
        else:
            out.append("%%" if head[i] == "%" else head[i])
            i += 1
    if out[-4:-1] == ["%u@%d", " ", "%v"]:  # a name after user@database: the application's
        out[-2] = "%a"
    return "".join(out)


_BRACKETED_PID = re.compile(r"\[\d+(?:-\d+)?\]")


def _is_sqlstate(token: str, before: list[str], after: str) -> bool:
    """A five-character token is a SQLSTATE (``%e``) when it holds a letter, is ``00000``,
    or is five digits beside a pid read elsewhere (before it, or in brackets after it)."""
    return (not token.isdigit() or token == "00000"
            or any("%p" in o for o in before) or _BRACKETED_PID.search(after) is not None)


def infer(lines: Sequence[str]) -> Prefix | None:
    """The prefix that reads most of ``lines`` (the common ones, those built from the lines'
    shapes, and their ``%q`` forms); None when none reads any."""
    sample = [line for line in lines if line and line[0] not in " \t"]
    shapes = Counter(s for s in map(shape, sample) if s is not None)
    built = [s for s, _ in shapes.most_common(5)]
    for short in built:
        built += [short + "%q" + long[len(short):] for long in built
                  if long.startswith(short) and long != short and "%q" not in long]
    best: tuple[int, int, Prefix] | None = None
    for text in dict.fromkeys([*built, *COMMON]):  # on a tie, the shape of the lines
        prefix = Prefix(text)
        score = (prefix.matches(sample), text.count("%"))
        if score[0] and (best is None or score > best[:2]):
            best = (*score, prefix)
    return best[2] if best else None
