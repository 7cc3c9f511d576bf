"""Everything ``pgcrisis cache`` reads: the matviews part (the same probe triage runs), the
dependency graph, measured refresh durations, the tables each view reads, views' columns and
keys, and names. Its queries are the ``.sql`` files in ``cache/sql/`` (beside the ``pgcrisis``
schema the writers install), read by :mod:`pgcrisis.sqlfiles`.

Read over a safe diagnostic session (read-only, short timeouts). A few queries in all,
never one per view. A duration source that is not there (no pgcrisis schema yet) simply
measured nothing; one that is there but cannot be read (a missing privilege, a library not
loaded) is recorded in :attr:`CacheCatalog.unavailable` with the reason, as triage records
a skipped check: an empty answer is never mistaken for "nothing measured".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg.rows import dict_row

from pgcrisis import sqlfiles
from pgcrisis.cache.graph import CacheGraph
from pgcrisis.cache.model import Durations, estimate
from pgcrisis.collect.probe import UNREADABLE, ProbeContext, unavailable_reason
from pgcrisis.collect.probe_matviews import matviews as matviews_probe
from pgcrisis.collect.server import read_server
from pgcrisis.errors import ConfigError
from pgcrisis.model.matviews import Matviews
from pgcrisis.model.server import ServerInfo
from pgcrisis.sqlparse.cron_command import parse_command

#: the duration sources, as named in :attr:`CacheCatalog.unavailable`
REFRESH_LOG = "pgcrisis.refresh_log"
PG_CRON = "pg_cron"
PG_STAT_STATEMENTS = "pg_stat_statements"

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class CacheCatalog:
    """The matviews, their graph and their refresh durations (every view has one).

    ``unavailable`` maps a duration source that could not be read to why (its views fall
    back to less trusted sources, down to the size estimate).
    """

    server: ServerInfo
    matviews: Matviews
    graph: CacheGraph
    durations: Mapping[str, Durations]
    queries: int = 0
    unavailable: Mapping[str, str] = field(default_factory=dict)


def _context(conn: psycopg.Connection[Any]) -> ProbeContext:
    return ProbeContext(conn=conn, server=read_server(conn), queries=1)


def _dicts(ctx: ProbeContext, name: str, params: Any = None) -> list[Row]:
    """The rows of ``cache/sql/<name>.sql`` (its variant for this server), counted in ``ctx``."""
    ctx.queries += 1
    with ctx.conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sqlfiles.query("pgcrisis.cache", name, ctx.server.version_num).encode(),
                    params)
        return cur.fetchall()


def _optional(source: str, unavailable: dict[str, str], read: Callable[[], list[Row]],
              ) -> list[Row]:
    """The rows ``read`` returns from an optional ``source``: none when it is not there
    (nothing was measured), none and the reason in ``unavailable`` when it is there but
    unreadable."""
    try:
        return read()
    except (pgerrors.UndefinedTable, pgerrors.UndefinedFunction, pgerrors.InvalidSchemaName):
        return []
    except UNREADABLE as exc:
        unavailable.setdefault(source, unavailable_reason(exc))
        return []


def _resolve(ctx: ProbeContext, lookups: Iterable[str]) -> dict[str, tuple[str, str]]:
    names = sorted(set(lookups))
    if not names:
        return {}
    return {r["lookup"]: (r["name"], r["relkind"])
            for r in _dicts(ctx, "resolve", {"names": names})}


def _measured(ctx: ProbeContext, unavailable: dict[str, str]) -> dict[str, Durations]:
    found: dict[str, Durations] = {}
    for row in _optional(REFRESH_LOG, unavailable, lambda: _dicts(ctx, "logged_durations")):
        found[row["view"]] = Durations(row["view"], row["p50_s"], row["p95_s"], row["runs"],
                                       "pgcrisis")
    if "pg_cron" in ctx.server.extensions:
        jobs = {r["jobid"]: parse_command(r["command"])
                for r in _optional(PG_CRON, unavailable, lambda: ctx.dicts("cron_jobs"))
                if r["database"] == ctx.server.database}
        single = {jobid: p.statements[0].lookup for jobid, p in jobs.items()
                  if len(p.statements) == 1 and p.statements[0].lookup
                  and p.statements[0].kind == "refresh"}
        resolved = _resolve(ctx, (v for v in single.values() if v))
        rows = _optional(PG_CRON, unavailable, lambda: _dicts(
            ctx, "cron_durations", {"jobids": sorted(single)})) if single else []
        for row in rows:
            lookup = single[row["jobid"]]
            name = resolved.get(lookup or "", ("", ""))[0]
            if name and name not in found:
                found[name] = Durations(name, row["p50_s"], row["p95_s"], row["runs"], "pg_cron")
    if "pg_stat_statements" in ctx.server.extensions:
        rows = _optional(PG_STAT_STATEMENTS, unavailable,
                         lambda: _dicts(ctx, "statement_durations"))
        parsed = {}
        for row in rows:
            statements = parse_command(row["query"]).statements
            if len(statements) == 1 and statements[0].lookup:
                parsed[statements[0].lookup] = row
        resolved = _resolve(ctx, parsed)
        for lookup, row in parsed.items():
            name = resolved.get(lookup, ("", ""))[0]
            if name and name not in found:
                mean, sd, top = row["mean_ms"] / 1000, row["stddev_ms"] / 1000, row["max_ms"] / 1000
                found[name] = Durations(name, mean, min(top, mean + 1.645 * sd),
                                        int(row["calls"]), "pg_stat_statements")
    return found


def read_catalog(conn: psycopg.Connection[Any]) -> CacheCatalog:
    """Matviews, graph and durations (measured where possible, else estimated from size)."""
    ctx = _context(conn)
    mv: Matviews = matviews_probe(ctx)["matviews"]
    unavailable: dict[str, str] = {}
    measured = _measured(ctx, unavailable)
    durations = {v.name: measured.get(v.name) or estimate(v.name, v.relpages) for v in mv.views}
    return CacheCatalog(ctx.server, mv, CacheGraph.from_matviews(mv), durations, ctx.queries,
                        unavailable)


def resolve_matviews(conn: psycopg.Connection[Any], names: Iterable[str]) -> tuple[str, ...]:
    """Names as typed (schema-qualified or by search path) to their canonical matview names;
    :class:`ConfigError` for a name that is not a materialized view here."""
    ctx = _context(conn)
    given = list(dict.fromkeys(names))
    found = _resolve(ctx, given)
    out = []
    for name in given:
        hit = found.get(name)
        if hit is None:
            raise ConfigError(f"no relation named {name} in this database")
        if hit[1] != "m":
            raise ConfigError(f"{hit[0]} is not a materialized view")
        out.append(hit[0])
    return tuple(out)


def base_tables(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, ...]]:
    """Each table some matview reads (directly or through plain views) -> those matviews."""
    ctx = _context(conn)
    out: dict[str, list[str]] = {}
    for row in _dicts(ctx, "base_tables"):
        out.setdefault(row["base_table"], []).append(row["matview"])
    return {k: tuple(v) for k, v in out.items()}


def key_nulls(conn: psycopg.Connection[Any]) -> dict[str, tuple[tuple[str, ...], float]]:
    """Each matview with a usable unique index: its key columns and sampled NULL share."""
    ctx = _context(conn)
    return {r["view"]: (tuple(r["key_columns"]), r["null_frac"])
            for r in _dicts(ctx, "key_nulls")}


def matview_columns(conn: psycopg.Connection[Any]) -> dict[str, Row]:
    """Each matview -> its comment (where a row key may be declared), its columns in order,
    and whether a unique btree index can cover each column's type (``indexable``)."""
    return {r["view"]: r for r in _dicts(_context(conn), "matview_columns")}
