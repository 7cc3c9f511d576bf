"""large-result: a statement returning or reading far more rows per call than the others.

Judged on the load window's ``pg_stat_statements`` differences: a statement whose rows sent
to the client per call (a query, a FETCH, a data change with RETURNING) are many, far more
than the other statements' of the window, and which keeps sessions busy; with its shared
blocks read per call, its share of the statements' time, the table it fetches from and how
much of that table one call fetches, and what it costs the client and the network. pgcrisis
cannot see bytes sent: they are estimated only for ``SELECT *`` of one table (rows times the
table's size on disk per row, from ``relpages`` and ``reltuples``), and the finding says so
(or why not).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable

from pgcrisis import sizes
from pgcrisis.checks.load_drivers import client_shares, driver_objects, named, saturation_remedy
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.evidence import StatementShare
from pgcrisis.model.evidence_saturation import LargeResultEvidence
from pgcrisis.model.findings import Finding, ObjectRef, Severity
from pgcrisis.model.load import LoadProfile, StatementLoad
from pgcrisis.model.relations import Table
from pgcrisis.model.snapshot import Snapshot

#: what the server may hide that the finding needs (``Hidden.what``, collect/load_window.py)
_NEEDS = frozenset({"statements", "other roles", "queryids", "sessions", "overlap"})
#: ``SELECT * FROM one_table ...``: every column of one table (bytes can be estimated)
_ALL_COLUMNS = re.compile(r"\s*select\s+\*\s+from\s+[^\s,()]+(\s+(as\s+)?\w+)?"
                          r"(\s+(where|order|limit|offset|for)\b.*)?\s*;?\s*", re.I | re.S)


def _table(snapshot: Snapshot, s: StatementLoad) -> Table | None:
    """The one table a query reads, when it names only one."""
    if len(s.tables) != 1:
        return None
    schema, _, name = s.tables[0].rpartition(".")
    return snapshot.relations.find(schema or None, name)


def _bytes(s: StatementLoad, table: Table | None, block_size: int) -> tuple[int | None, str]:
    """Bytes sent per call, and how they were estimated (or why they were not)."""
    if table is None:
        return None, ("not estimated: pgcrisis cannot see the bytes a statement sends, and "
                      "it reads more than one table (or one it does not know)")
    if not _ALL_COLUMNS.fullmatch(s.query):
        return None, ("not estimated: pgcrisis cannot see the bytes a statement sends, and "
                      "it selects some columns of the table, whose widths it does not know")
    if table.reltuples <= 0 or table.relpages <= 0:
        return None, (f"not estimated: {table.name} has no size per row until it is "
                      "analyzed (ANALYZE)")
    per_row = table.relpages * block_size / table.reltuples
    return int(s.rows_per_call * per_row), (
        f"estimated: rows per call times {table.name}'s {per_row:,.0f} bytes per row on disk "
        "(SELECT * of one table; the wire format differs a little)")


def _others(p: LoadProfile, s: StatementLoad) -> float | None:
    """The median rows per call of the window's other statements (None: there are none)."""
    others = [o.rows_per_call for o in p.statements if o.queryid != s.queryid and o.calls > 0]
    return statistics.median(others) if others else None


def _sessions(p: LoadProfile, s: StatementLoad) -> tuple[float, str]:
    """Average sessions busy with it: seen running it, else its execution time per second."""
    span = p.statements_s or p.seconds
    timed = s.exec_ms / 1000 / span if span > 0 else 0.0
    if s.active >= timed:
        return s.active, "sessions seen running it"
    return timed, "its execution time per second (pg_stat_statements)"


def _candidates(p: LoadProfile, t: Thresholds) -> list[StatementLoad]:
    """The statements sending far more rows per call than the others, and busy enough."""
    out = []
    for s in p.statements:
        if not s.returns_rows or s.calls <= 0 or s.rows_per_call < t.large_result_min_rows_per_call:
            continue
        others = _others(p, s)
        if others is not None and s.rows_per_call < t.large_result_ratio * max(others, 1.0):
            continue
        if _sessions(p, s)[0] >= t.large_result_min_sessions:
            out.append(s)
    return out


def _lasting(table: Table | None, share: float | None) -> str:
    """The lasting fix: fetch less; an index only where a filter keeps a small share."""
    fix = ("fetch what is shown: a page at a time (keyset: WHERE key > the last one seen "
           "ORDER BY key LIMIT n), only the columns needed, or the aggregate computed in the "
           "server")
    if table is not None and share is not None and share < 0.2:
        fix += (f"; it keeps {share:.0%} of {table.name}: an index on its filter, covering "
                "the columns it selects (INCLUDE), reads only those rows")
    return fix


def _finding(snapshot: Snapshot, p: LoadProfile, s: StatementLoad, t: Thresholds) -> Finding:
    """The finding of one statement sending large results."""
    span = p.statements_s or p.seconds
    total_ms = sum(o.exec_ms for o in p.statements) or 1.0
    block = snapshot.server.block_size
    hidden = p.hidden_lines(_NEEDS)
    sessions, measured_by = _sessions(p, s)
    others = _others(p, s)
    table = _table(snapshot, s)
    rows = table.rows if table is not None else 0.0
    share = s.rows_per_call / rows if rows > 0 else None
    per_call, how = _bytes(s, table, block)
    blks = (s.shared_blks_hit + s.shared_blks_read) / s.calls
    calls_per_s = s.calls / span
    clients = client_shares(p, lambda c: c.active if s.queryid in c.queryids else 0.0,
                             sum(c.active for c in p.clients if s.queryid in c.queryids), t)
    driver = StatementShare(
        queryid=s.queryid, share=round(s.exec_ms / total_ms, 3),
        measured_by="its execution time (pg_stat_statements)",
        calls_per_s=round(calls_per_s, 1), exec_ms_per_s=round(s.exec_ms / span, 1),
        blks_read_per_s=round(s.shared_blks_read / span, 1), jit_share=round(s.jit_share, 3),
        role=s.role, rows_per_s=round(s.rows / span, 1))
    of_table = f" ({share:.0%} of {table.name})" if share is not None and table else ""
    cost = (f" (about {sizes.words(per_call)} a call, {sizes.words(per_call * calls_per_s)}"
            "/s to the clients)" if per_call is not None else "")
    return Finding(
        code="large-result", severity=Severity.WARNING,
        title=(f"{named(s)} returns {s.rows_per_call:,.0f} rows per call{of_table}, "
               f"{calls_per_s:,.1f} calls/s{cost}"),
        detail=(f"Over {span:.1f} s it returned {s.rows_per_call:,.0f} rows per call"
                + (f" (the other statements: {others:,.0f} at the median)"
                   if others is not None else "")
                + f" and read {blks:,.0f} shared blocks per call ({sizes.words(blks * block)}),"
                f" {s.exec_ms / s.calls:,.1f} ms a call, {s.exec_ms / total_ms:.0%} of the "
                f"statements' time; {sessions:.1f} sessions busy with it on average (by "
                f"{measured_by}). Every row is converted, sent over the network and held by "
                "the client (libpq keeps a whole result in memory unless it fetches in "
                f"pages). Bytes sent: {how}."
                + (" Clients: " + "; ".join(f"{c.label} {e.share:.0%}" for c, e in clients)
                   + "." if clients else "")
                + (" Not seen: " + "; ".join(hidden) + "." if hidden else "")),
        objects=(*driver_objects([(s, driver)], clients),
                 *((ObjectRef("relation", name=table.name),) if table is not None else ())),
        evidence=LargeResultEvidence(
            queryid=s.queryid, calls=s.calls, calls_per_s=round(calls_per_s, 1),
            rows_per_call=round(s.rows_per_call, 1),
            others_rows_per_call=None if others is None else round(others, 1),
            blks_per_call=round(blks, 1), bytes_read_per_call=int(blks * block),
            exec_ms_per_call=round(s.exec_ms / s.calls, 1),
            time_share=round(s.exec_ms / total_ms, 3), sessions=round(sessions, 2),
            sessions_measured_by=measured_by, table=table.name if table else None,
            table_rows=rows or None,
            table_share_per_call=None if share is None else round(share, 3),
            bytes_per_call=per_call,
            bytes_per_s=None if per_call is None else int(per_call * calls_per_s),
            bytes_how=how, window_s=round(span, 2), clients=tuple(e for _, e in clients),
            role=s.role, not_seen=hidden),
        remedy=saturation_remedy(snapshot, [(s, driver)], clients, max(2, 2 * (p.cpus.cpus or 1)),
                                 _lasting(table, share), t),
        impact=sessions * 1e6)


@check("large-result", needs=("load",))
def large_result(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Statements returning far more rows per call than the others, keeping sessions busy."""
    p = snapshot.load
    if p is None or not p.statements_known:
        return
    for s in _candidates(p, t):
        yield _finding(snapshot, p, s, t)
