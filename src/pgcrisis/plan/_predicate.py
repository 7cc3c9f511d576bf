"""What index a filter asks for, read from the shape of its condition.

EXPLAIN prints a scan's condition as PostgreSQL deparses it: ``((status = 'new'::text) AND
(created_at > now()))``. Split at the top-level ``AND`` into comparisons, each is one of:

* a column (or a function of one: ``lower(email)``) compared with a constant, a parameter
  or a stable function: **equality** (``=``, ``= ANY``, ``IS NULL``) or **range** (``<``,
  ``>=``, an anchored ``LIKE 'abc%'``); a b-tree wants the equality columns first, then
  one range column (a second range column cannot narrow the index scan);
* unanchored pattern matching (``LIKE '%x%'``, ``ILIKE``, a regex not starting with ``^``):
  only a trigram GIN index (``pg_trgm``) helps;
* a column compared with another column, ``<>``, or an ``OR``: no index on this table
  alone serves it (it is left out, never guessed at).

>>> advice = index_advice("((o.status = 'new'::text) AND (o.created_at > now())"
...                       " AND (o.amount < 5))")
>>> advice.btree
['status', 'created_at']
>>> index_advice("(a.customer_id = a.region_id)", "a").btree
[]
>>> index_advice("(o.customer_id = c.id)", "o").btree   # c.id: the outer query's, a parameter
['customer_id']
>>> index_advice("((lower(email) = 'x@y'::text))").btree
['lower(email)']
>>> index_advice("(name ~~ '%smith%'::text)").trigram
['name']
>>> index_advice("(name ~ '.*smith.*'::text)").trigram
['name']
>>> index_advice("(name ~~ 'smi%'::text)").prefix
['name']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_IDENT = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_COLUMN = re.compile(rf"^(?:(?P<qualifier>{_IDENT})\.)?(?P<name>{_IDENT})(?:::[\w ]+(?:\[\])?)?$")
_FUNCTION = re.compile(r"^(?P<func>[A-Za-z_][\w.]*)\((?P<args>.*)\)(?:::[\w ]+)?$")
_OPERATORS = ("IS NOT NULL", "IS NULL", "= ANY", "<> ALL", "!~~*", "!~~", "~~*", "~~", "!~*",
              "!~", "~*", "<=", ">=", "<>", "!=", "=", "<", ">", "~")
_EQUALITY = frozenset({"=", "= ANY", "IS NULL"})
_RANGE = frozenset({"<", ">", "<=", ">="})
_PATTERN = frozenset({"~~", "~~*", "~", "~*"})
_KEYWORDS = frozenset({"true", "false", "NULL", "CURRENT_DATE", "CURRENT_TIMESTAMP",
                       "LOCALTIMESTAMP", "CURRENT_USER"})


@dataclass(slots=True)
class IndexAdvice:
    """Columns (or expressions) for a b-tree in order, and columns wanting a trigram index."""

    btree: list[str] = field(default_factory=list)
    equal: list[str] = field(default_factory=list)  # the b-tree's equality part
    prefix: list[str] = field(default_factory=list)  # anchored LIKE: text_pattern_ops
    trigram: list[str] = field(default_factory=list)
    expressions: list[str] = field(default_factory=list)  # the b-tree entries that are
    ignored: list[str] = field(default_factory=list)       # comparisons no index serves


def _strip_parens(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _closes_at_end(text):
        text = text[1:-1].strip()
    return text


def _top_level(text: str) -> Iterator[tuple[int, str, int]]:
    """Each character outside single quotes, with its index and the parenthesis depth once
    it is read (quotes themselves are left out)."""
    depth = 0
    quoted = False
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
            continue
        if quoted:
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        yield i, char, depth


def _closes_at_end(text: str) -> bool:
    """Whether the '(' at 0 is closed by the ')' at the end (not earlier)."""
    return not any(char == ")" and depth == 0 and i != len(text) - 1
                   for i, char, depth in _top_level(text))


def _split_top(text: str, word: str) -> list[str]:
    """``text`` split at ``word`` (`` AND ``) where it is outside parentheses and quotes.

    >>> _split_top("a = 1 AND (b = 2 AND c = 3) AND d = 'x AND y'", " AND ")
    ['a = 1', '(b = 2 AND c = 3)', "d = 'x AND y'"]
    >>> _split_top("f(a, b), 'c,d'", ",")
    ['f(a, b)', "'c,d'"]
    >>> _closes_at_end("(a) AND (b)"), _closes_at_end("((a) AND (b))")
    (False, True)
    """
    parts: list[str] = []
    start = 0
    for i, char, depth in _top_level(text):
        if i >= start and depth == 0 and char not in "()" and text.startswith(word, i):
            parts.append(text[start:i])
            start = i + len(word)
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _operator(atom: str) -> tuple[str, str, str] | None:
    """(left, operator, right) at the comparison's top level."""
    for i, char, depth in _top_level(atom):
        if depth == 0 and char == " ":
            rest = atom[i + 1:]
            for op in _OPERATORS:
                if rest.startswith(op) and (len(rest) == len(op) or rest[len(op)] in " ("):
                    return atom[:i].strip(), op, rest[len(op):].strip()
    return None


def _qualifier(column: re.Match[str]) -> str | None:
    qualifier = column.group("qualifier")
    return None if qualifier is None else qualifier.strip('"')


def _is_constant(text: str, other: str | None = None) -> bool:
    """A literal, a parameter, an InitPlan's value, a function of those; or a column of
    another table than ``other`` (the compared column's qualifier): in a correlated
    subquery or a parameterised scan that is a parameter too."""
    text = _strip_parens(text)
    column = _COLUMN.match(text)
    if column is not None and column.group("name") not in _KEYWORDS:
        qualifier = _qualifier(column)
        return qualifier is not None and other is not None and qualifier != other
    if not text:
        return True
    if text[0] in "'$-0123456789" or text.startswith(("ANY (", "(InitPlan", "InitPlan")):
        return True
    if text in _KEYWORDS or text.split("::", 1)[0] in _KEYWORDS:
        return True
    function = _FUNCTION.match(text)
    if function is not None:
        args = function.group("args").strip()
        return all(_is_constant(arg, other) for arg in _split_top(args, ",")) if args \
            else True
    return False


def _pattern_anchored(op: str, right: str) -> bool:
    literal = re.match(r"^\(?'((?:[^']|'')*)'", right)
    if literal is None:
        return False
    pattern = literal.group(1)
    if op == "~~":
        return bool(pattern) and pattern[0] not in "%_"
    if op == "~":
        return pattern.startswith("^") and not pattern.startswith(("^.*", "^.+"))
    return False  # ILIKE and ~* never use a plain b-tree


_FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "="}


def index_advice(condition: str, alias: str | None = None) -> IndexAdvice:
    """See the module docstring; ``alias`` is the scanned table's (columns of other
    tables, in a correlated subquery's filter, are parameters there)."""
    advice = IndexAdvice()
    text = _strip_parens(condition)
    if _split_top(text, " OR ") != [text]:
        advice.ignored.append(condition)
        return advice
    equal: list[str] = []
    ranges: list[str] = []
    for raw in _split_top(text, " AND "):
        atom = _strip_parens(raw)
        parts = _operator(atom)
        if parts is None:
            advice.ignored.append(atom)
            continue
        left, op, right = parts
        left = _strip_parens(left)
        right = _strip_parens(right)
        column = _COLUMN.match(left)
        swapped = _COLUMN.match(right)
        if op in _FLIPPED and swapped is not None and alias is not None \
                and _qualifier(swapped) == alias \
                and (column is None or _qualifier(column) != alias):
            left, op, right, column = right, _FLIPPED[op], left, swapped
        function = None if column is not None else _FUNCTION.match(left)
        if function is not None:
            inner = [_COLUMN.match(_strip_parens(arg))
                     for arg in _split_top(function.group("args"), ",")]
            found = [match for match in inner if match is not None]
            column_of = found[0] if found else None
            if column_of is None:
                function = None
        else:
            column_of = column
        own = None if column_of is None else _qualifier(column_of) or alias
        if (column is None and function is None) or not _is_constant(right, own):
            advice.ignored.append(atom)  # a column against a column, or worse
            continue
        name = column.group("name") if column is not None else _expression(left)
        if op in _PATTERN and not _pattern_anchored(op, right):
            if column is not None and name not in advice.trigram:
                advice.trigram.append(name)
            else:
                advice.ignored.append(atom)
            continue
        if function is not None and name not in advice.expressions:
            advice.expressions.append(name)
        if op in _PATTERN and name not in advice.prefix:
            advice.prefix.append(name)
        bucket = equal if op in _EQUALITY else ranges if op in _RANGE | _PATTERN else None
        if bucket is None:
            advice.ignored.append(atom)   # <>, NOT LIKE: an index does not narrow them
        elif name not in equal and name not in ranges:
            bucket.append(name)
    advice.btree = equal + ranges[:1]
    advice.equal = equal
    return advice


def _expression(text: str) -> str:
    """``lower(o.email)`` -> ``lower(email)`` (the index is on one table: no alias)."""
    return re.sub(rf"\b{_IDENT}\.(?={_IDENT})", "", text)
