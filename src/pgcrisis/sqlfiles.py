"""The one loader of pgcrisis's SQL files: ``<package>/sql/<name>.sql``, read once.

Every fixed statement pgcrisis runs is a ``.sql`` file in an ``sql`` folder beside the code
that runs it (``pgcrisis.collect``: the probes' queries; ``pgcrisis.cache``: the cache
reader's queries, its writers' statements and the ``pgcrisis`` schema). Statements composed
from identifiers are built with :mod:`psycopg.sql`, from a file's text where they have one.

A query ``locks`` may have a variant for servers from version N on, ``locks_post_N.sql`` (N
as in ``server_version_num``, e.g. ``150000``): the newest variant not newer than the server
wins; without a version, the newest of all. A package's folder is read the first time one of
its files is asked for, and kept.

>>> query("pgcrisis.collect", "statements", 140000) != query("pgcrisis.collect", "statements")
True
>>> query("pgcrisis.collect", "no_such_query")
Traceback (most recent call last):
    ...
KeyError: 'no SQL file named no_such_query.sql in pgcrisis.collect'
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

#: the version a query is asked for when none is given: the newest variant wins
LATEST = 999999

_VARIANT = re.compile(r"^(?P<name>.+?)(?:_post_(?P<num>\d{6}))?\.sql$")


@cache
def _index(package: str) -> dict[str, list[tuple[int, str]]]:
    """Every file of ``package``'s ``sql`` folder: name -> (minimum version, text), oldest
    variant first."""
    found: dict[str, list[tuple[int, str]]] = {}
    for entry in resources.files(package).joinpath("sql").iterdir():
        match = _VARIANT.match(entry.name)
        if match:
            found.setdefault(match["name"], []).append(
                (int(match["num"] or 0), entry.read_text(encoding="utf-8")))
    for variants in found.values():
        variants.sort()
    return found


def query(package: str, name: str, version_num: int = LATEST) -> str:
    """The text of ``name`` (as written) in ``package``'s ``sql`` folder, in its variant for
    a server of ``version_num``; :class:`KeyError` when there is none."""
    try:
        variants = _index(package)[name]
    except KeyError:
        raise KeyError(f"no SQL file named {name}.sql in {package}") from None
    chosen = [text for num, text in variants if num <= version_num]
    if not chosen:
        raise KeyError(f"{name}.sql has no variant for server version {version_num}")
    return chosen[-1]


def statements(package: str, name: str) -> tuple[str, ...]:
    """The statements of script ``name`` in order, each as a person is shown it: without the
    file's ``--`` comment lines, the ``;`` between statements, or surrounding blank lines.

    A ``;`` inside a string or a dollar-quoted function body does not end a statement (the
    text is split by PostgreSQL's own scanner, through pglast, imported here: opening a
    recording store loads no SQL parser).
    """
    from pglast.parser import split

    text = query(package, name)
    kept = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return tuple(s.strip() for s in split(kept, with_parser=False) if s.strip())
