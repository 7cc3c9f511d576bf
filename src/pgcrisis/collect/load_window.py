"""Triage's load window: what the server does over about a second, read on a session of its own.

At both ends of the window: the server-wide counters, pg_stat_statements (every statement per
role), pg_statio_user_tables and pg_stat_user_tables (the current database's tables: blocks
read, rows written); in between, pg_stat_activity
every :data:`INTERVAL_S` seconds. The window runs in a thread on a second safe diagnostic
session (:func:`pgcrisis.collect.session.connect`: read-only, named, short timeouts) while
the other probes run on the first, so triage takes little longer than its probes; where the
second session cannot be opened (a server out of connection slots), the window runs on the
first one after the other probes, and the profile says so.

What the server hides is recorded, never guessed: no pg_stat_statements (no statements),
another role's sessions without pg_read_all_stats (their state, wait and statement), no
queryid in pg_stat_activity before PostgreSQL 14 (statements are not matched to sessions),
no pg_stat_wal before 14, no pg_stat_io before 16.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql as psql

from pgcrisis.collect import sql
from pgcrisis.collect.load_build import (
    RelationTotals,
    Seen,
    StatementTotals,
    Totals,
    WriteTotals,
    not_own,
    own_queryids,
)
from pgcrisis.collect.probe import UNREADABLE, ProbeContext, unavailable_reason
from pgcrisis.errors import ConnectError, first_line
from pgcrisis.model.load import Hidden
from pgcrisis.model.load_rates import ServerCounters
from pgcrisis.model.load_tables import RelationReads, RelationWrites
from pgcrisis.model.server import ServerInfo

#: seconds between two reads of pg_stat_activity during the window
INTERVAL_S = 0.2
STATEMENTS = "statements"


@dataclass
class Readings:
    """What one window read: the activity samples (pgcrisis's own sessions left out), and
    each counter at both ends (None where it could not be read)."""

    seconds: float = 0.0
    samples: list[list[Seen]] = field(default_factory=list)
    counters: tuple[ServerCounters, ...] = ()
    statements: tuple[StatementTotals, StatementTotals] | None = None
    relations: tuple[RelationTotals, RelationTotals] | None = None
    writes: tuple[WriteTotals, WriteTotals] | None = None
    hidden: list[Hidden] = field(default_factory=list)
    queries: int = 0
    #: the statements pgcrisis's own sessions were seen running (never counted as anyone's)
    own: frozenset[int] = frozenset()


def pgss_schema(ctx: ProbeContext, hidden: list[Hidden]) -> str | None:
    """The schema pg_stat_statements is installed in, here; None (and why, in ``hidden``)
    where it cannot be read."""
    server = ctx.server
    why = None
    if "pg_stat_statements" not in server.extensions:
        why = "pg_stat_statements is not installed in this database"
    elif server.preloaded and "pg_stat_statements" not in server.preloaded:
        why = "pg_stat_statements is installed but not in shared_preload_libraries"
    elif server.version_num < 130000:
        why = "pgcrisis reads pg_stat_statements of PostgreSQL 13 or newer"
    if why is not None:
        hidden.append(Hidden(STATEMENTS, why, "CREATE EXTENSION pg_stat_statements, with "
                             "pg_stat_statements in shared_preload_libraries"))
        return None
    schemas = {row["extname"]: row["schema"] for row in ctx.dicts("statements_extensions")}
    return schemas.get("pg_stat_statements")


def read_statements(ctx: ProbeContext, schema: str) -> dict[tuple[str, int], Totals]:
    """pg_stat_statements now: (role, queryid) -> cumulative counters (rows as tuples: with
    thousands of statements, building a mapping per row costs more than the query)."""
    query = sql.composed("load_statements", ctx.server.version_num,
                         pgss=psql.Identifier(schema, "pg_stat_statements"))
    ctx.queries += 1
    with ctx.conn.cursor() as cur:
        cur.execute(query)
        return {(role, int(queryid)): Totals(*counters)
                for role, queryid, *counters in cur.fetchall()}


def read_texts(ctx: ProbeContext, schema: str, queryids: list[int]) -> dict[int, str]:
    """The texts of ``queryids`` (one pass over pg_stat_statements' text file)."""
    rows = ctx.composed_dicts("load_statement_texts", {"queryids": queryids},
                              pgss=psql.Identifier(schema, "pg_stat_statements"))
    return {int(r["queryid"]): str(r["query"]) for r in rows}


#: blocks a table (with its indexes) must have read since the statistics' reset to be read
#: at the window's ends: below it, a table counts from it (a lower bound of its reads)
MIN_BLOCKS = 1000


def read_relations(ctx: ProbeContext) -> dict[int, RelationReads]:
    """The block counters of tables and indexes now (those past :data:`MIN_BLOCKS` reads):
    the relation's oid -> its cumulative counters, under its table's name."""
    out = {}
    for r in ctx.dicts("load_relations", {"min_blocks": MIN_BLOCKS}):
        read, hit = int(r["blks_read"]), int(r["blks_hit"])
        out[int(r["relid"])] = (RelationReads(r["name"], 0, 0, read, hit) if r["is_index"]
                                else RelationReads(r["name"], read, hit, 0, 0))
    return out


#: rows a table must have written since the statistics' reset to be read at the window's
#: ends (as :data:`MIN_BLOCKS`: below it, a table counts from it)
MIN_ROWS = 1000


def read_writes(ctx: ProbeContext) -> dict[int, RelationWrites]:
    """The row counters of tables now (those past :data:`MIN_ROWS` rows written): relid ->
    cumulative rows written."""
    return {int(r["relid"]): RelationWrites(**r)
            for r in ctx.dicts("load_relation_writes", {"min_rows": MIN_ROWS})}


def read_counters(ctx: ProbeContext) -> ServerCounters:
    """The server-wide counters now."""
    return ctx.composed_rows("load_counters", ServerCounters)[0]


def read_activity(ctx: ProbeContext, own: set[int]) -> list[Seen]:
    """Every other session now, pgcrisis's own left out (the statements they run added to
    ``own``)."""
    rows = ctx.composed_rows("load_activity", Seen)
    own |= own_queryids(rows)
    return not_own(rows)


def attempt(ctx: ProbeContext, hidden: list[Hidden], what: str, remedy: str,
            read: Callable[[], Any]) -> Any:
    """``read()``, or None with the reason in ``hidden`` when the server refuses it (a lost
    connection still ends the pass)."""
    try:
        return read()
    except psycopg.OperationalError as exc:
        raise ConnectError(f"lost the connection while reading the load: {first_line(exc)}"
                           ) from None
    except UNREADABLE as exc:
        hidden.append(Hidden(what, unavailable_reason(exc), remedy))
    except psycopg.Error as exc:
        hidden.append(Hidden(what, unavailable_reason(exc), remedy))
    return None


def _ends(ctx: ProbeContext, schema: str | None, hidden: list[Hidden],
          ) -> tuple[Any, Any, Any, Any]:
    """The counters, tables (blocks read), statements and tables (rows written), read at one
    end of the window."""
    relations = attempt(ctx, hidden, "tables", "grant pg_read_all_stats",
                        lambda: read_relations(ctx))
    writes = attempt(ctx, hidden, "tables", "grant pg_read_all_stats", lambda: read_writes(ctx))
    counters = attempt(ctx, hidden, "server counters", "grant pg_monitor",
                       lambda: read_counters(ctx))
    statements = None if schema is None else attempt(
        ctx, hidden, STATEMENTS, "grant pg_read_all_stats", lambda: read_statements(ctx, schema))
    return counters, relations, statements, writes


def static_hidden(server: ServerInfo) -> list[Hidden]:
    """What this server never shows, whatever the window."""
    out = []
    if not server.can_read_all_stats:
        out.append(Hidden("other roles", f"role {server.current_user} lacks pg_read_all_stats: "
                          "other roles' sessions show no state, wait or statement, and their "
                          "statements no queryid", f"GRANT pg_monitor TO {server.current_user}"))
    if server.version_num < 140000:
        out.append(Hidden("queryids", "pg_stat_activity shows no queryid before PostgreSQL "
                          "14: statements are not matched to the sessions running them",
                          "PostgreSQL 14 or newer"))
        out.append(Hidden("WAL", "no pg_stat_wal before PostgreSQL 14: the WAL written is "
                          "measured from the WAL position, its usual level is not known",
                          "PostgreSQL 14 or newer"))
    if server.version_num < 160000:
        out.append(Hidden("pg_stat_io", "no pg_stat_io before PostgreSQL 16: the buffers "
                          "backends wrote themselves come from pg_stat_bgwriter, without "
                          "their I/O per context", "PostgreSQL 16 or newer"))
    return out


def watch(ctx: ProbeContext, seconds: float, sleep: Callable[[float], None] = time.sleep,
          ) -> Readings:
    """Read the window on ``ctx``'s session: both ends' counters, activity in between."""
    hidden = static_hidden(ctx.server)
    schema = pgss_schema(ctx, hidden)
    start = _ends(ctx, schema, hidden)
    t0 = time.monotonic()
    samples: list[list[Seen]] = []
    own: set[int] = set()
    while True:
        rows = attempt(ctx, hidden, "sessions", "grant pg_monitor",
                       lambda: read_activity(ctx, own))
        if rows is not None:
            samples.append(rows)
        remaining = seconds - (time.monotonic() - t0)
        if remaining <= 0:
            break
        sleep(min(INTERVAL_S, remaining))
    end = _ends(ctx, schema, hidden)
    window = max(time.monotonic() - t0, 1e-3)
    unique = list({(h.what, h.reason): h for h in hidden}.values())
    return Readings(
        window, samples,
        counters=(start[0], end[0]) if start[0] is not None and end[0] is not None else (),
        relations=(start[1], end[1]) if start[1] is not None and end[1] is not None else None,
        statements=(start[2], end[2]) if start[2] is not None and end[2] is not None else None,
        writes=(start[3], end[3]) if start[3] is not None and end[3] is not None else None,
        hidden=unique, own=frozenset(own))


OpenSession = Callable[[], contextlib.AbstractContextManager[psycopg.Connection[Any]]]


class Window:
    """The window, watched in a thread on a session of its own (:meth:`result` joins it);
    without ``open_session``, watched by :meth:`result` on the caller's session."""

    def __init__(self, open_session: OpenSession | None, server: ServerInfo,
                 seconds: float) -> None:
        self.seconds = seconds
        self._open = open_session
        self._server = server
        self._readings: Readings | None = None
        self._error: BaseException | None = None
        self._refused: str | None = None
        self._thread = threading.Thread(target=self._run, name="pgcrisis-load-window",
                                        daemon=True)

    def start(self) -> Window:
        if self._open is not None:
            self._thread.start()
        return self

    def _run(self) -> None:
        assert self._open is not None
        try:
            with self._open() as conn:
                ctx = ProbeContext(conn=conn, server=self._server)
                self._readings = watch(ctx, self.seconds)
                self._readings.queries = ctx.queries
        except ConnectError as exc:
            self._refused = str(exc)
        except BaseException as exc:  # handed to the thread that joins (and raised there)
            self._error = exc

    def result(self, fallback: ProbeContext) -> Readings:
        """The readings; where no second session was to be (or could be) opened, the window
        is watched now on ``fallback``'s session (and ``hidden`` says why, if it failed)."""
        if self._thread.is_alive() or self._thread.ident is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        if self._readings is None:
            before = fallback.queries
            self._readings = watch(fallback, self.seconds)
            self._readings.queries = fallback.queries - before
            fallback.queries = before  # counted once, by the caller
            if self._refused is not None:
                self._readings.hidden.append(Hidden(
                    "overlap", f"a second session could not be opened ({self._refused}): "
                    "the window was watched after the other probes", "free a connection slot"))
        return self._readings
