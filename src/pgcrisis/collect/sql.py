"""Load the named ``.sql`` files next to the probes, choosing the variant for the server version.

A query ``locks`` lives in ``sql/locks.sql``; a variant for servers from version N on is
``sql/locks_post_N.sql`` (N as in ``server_version_num``, e.g. ``150000``). The newest variant
not newer than the server wins.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_VARIANT = re.compile(r"^(?P<name>.+?)(?:_post_(?P<num>\d{6}))?\.sql$")


@cache
def _index() -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = {}
    for entry in resources.files("pgcrisis.collect").joinpath("sql").iterdir():
        match = _VARIANT.match(entry.name)
        if match:
            found.setdefault(match["name"], []).append(
                (int(match["num"] or 0), entry.read_text(encoding="utf-8"))
            )
    for variants in found.values():
        variants.sort()
    return found


def query(name: str, version_num: int = 999999) -> str:
    """The text of query ``name`` for a server of ``version_num``."""
    try:
        variants = _index()[name]
    except KeyError:
        raise KeyError(f"no SQL file named {name}.sql") from None
    chosen = [text for num, text in variants if num <= version_num]
    if not chosen:
        raise KeyError(f"{name}.sql has no variant for server version {version_num}")
    return chosen[-1]
