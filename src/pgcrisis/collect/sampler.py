"""``--sample SECONDS``: call and time rates per client over a window (runaway-client).

A single snapshot cannot tell a client that runs a statement in a tight loop from one that
ran it all month: pg_stat_statements counts since its last reset. So the sampler reads it at
both ends of the window and takes the difference. pg_stat_statements knows roles, not
applications or addresses, so pg_stat_activity is read every :data:`INTERVAL_S` seconds in
between: each statement's calls go to the clients seen running it (``query_id`` stays set
while a session is idle, so a client looping on a fast statement is seen), in proportion to
how often each was seen; calls nobody was seen running go to their role alone.

Without pg_stat_statements, the number of distinct statements seen starting (``query_start``
changes) per client is the rate: a lower bound that still ranks the clients.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from psycopg import sql as psql
from psycopg.rows import dict_row

from pgcrisis.collect import sql
from pgcrisis.collect.probe import ProbeContext, probe
from pgcrisis.model.health import UNSEEN, ClientRate, Sample
from pgcrisis.model.parts import SAMPLE

#: seconds between two reads of pg_stat_activity during the window
INTERVAL_S = 0.2

ClientKey = tuple[str, str, str]  # application, address, role


def _statements(ctx: ProbeContext) -> dict[tuple[str, int], tuple[float, float]] | None:
    schemas = {row["extname"]: row["schema"] for row in ctx.dicts("statements_extensions")}
    if "pg_stat_statements" not in schemas:
        return None
    query = psql.SQL(sql.query("sample_statements", ctx.server.version_num)).format(
        pgss=psql.Identifier(schemas["pg_stat_statements"], "pg_stat_statements"))
    ctx.queries += 1
    with ctx.conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query)
        return {(r["role"], int(r["queryid"])): (r["calls"], r["exec_ms"])
                for r in cur.fetchall()}


def take_sample(ctx: ProbeContext, seconds: float) -> Sample:
    """Watch the server for ``seconds`` and return the rates per client."""
    before = _statements(ctx)
    t0 = time.monotonic()
    seen: dict[tuple[str, int], Counter[ClientKey]] = defaultdict(Counter)
    starts: dict[ClientKey, set[tuple[int, float]]] = defaultdict(set)
    connections: Counter[ClientKey] = Counter()
    samples = 0
    while True:
        rows: list[dict[str, Any]] = ctx.dicts("sample_activity")
        samples += 1
        per_client: Counter[ClientKey] = Counter()
        for row in rows:
            key = (row["application"], row["address"], row["role"])
            per_client[key] += 1
            if row["query_id"] is not None:
                seen[(row["role"], int(row["query_id"]))][key] += 1
            if row["query_start"] is not None:
                starts[key].add((row["pid"], row["query_start"]))
        for key, n in per_client.items():
            connections[key] = max(connections[key], n)
        remaining = seconds - (time.monotonic() - t0)
        if remaining <= 0:
            break
        time.sleep(min(INTERVAL_S, remaining))
    after = _statements(ctx) if before is not None else None
    window = max(time.monotonic() - t0, 1e-3)
    calls: defaultdict[ClientKey, float] = defaultdict(float)
    exec_ms: defaultdict[ClientKey, float] = defaultdict(float)
    queryids: dict[ClientKey, dict[int, float]] = defaultdict(dict)
    if before is not None and after is not None:
        for (role, qid), (c1, t1) in after.items():
            c0, t0_ms = before.get((role, qid), (0.0, 0.0))
            d_calls, d_ms = c1 - c0, t1 - t0_ms
            if d_calls <= 0:
                continue
            observers = seen.get((role, qid))
            if not observers:
                observers = Counter({(UNSEEN, UNSEEN, role): 1})
            total = sum(observers.values())
            for key, n in observers.items():
                calls[key] += d_calls * n / total
                exec_ms[key] += d_ms * n / total
                queryids[key][qid] = queryids[key].get(qid, 0.0) + d_calls * n / total
    else:
        for key, started in starts.items():
            calls[key] = float(len(started))
    keys = set(calls) | set(connections)

    def rate(k: ClientKey) -> ClientRate:
        per_query = queryids.get(k, {})
        top = max(per_query, key=lambda q: per_query[q]) if per_query else None
        return ClientRate(application=k[0], address=k[1], role=k[2], calls=calls[k],
                          exec_ms=exec_ms[k], connections=connections[k],
                          queryids=tuple(sorted(per_query, key=lambda q: -per_query[q])),
                          top_queryid=top,
                          top_query_calls=per_query[top] if top is not None else 0.0)

    clients = tuple(sorted((rate(k) for k in keys), key=lambda c: -c.calls))
    return Sample(seconds=window, clients=clients, total_calls=sum(calls.values()),
                  total_exec_ms=sum(exec_ms.values()), activity_samples=samples,
                  statements_available=before is not None)


@probe(SAMPLE)
def sample(ctx: ProbeContext) -> Mapping[str, Any]:
    """Rates per client over ``ctx.sample_s`` seconds (run only when asked for)."""
    return {"sample": take_sample(ctx, ctx.sample_s)}
