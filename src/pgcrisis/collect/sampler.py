"""Call and time rates per client over triage's load window (runaway-client).

A single snapshot cannot tell a client that runs a statement in a tight loop from one that
ran it all month: pg_stat_statements counts since its last reset. The load window
(:mod:`.load_window`) reads it at both ends and pg_stat_activity every 0.2 s in between; here
each statement's calls go to the client backends seen running it (``query_id`` stays set while
a session is idle, so a client looping on a fast statement is seen), in proportion to how
often each was seen; calls nobody was seen running go to their role alone.

Without pg_stat_statements, the number of distinct statements seen starting (``query_start``
changes) per client is the rate: a lower bound that still ranks the clients.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from pgcrisis.collect.load_window import Readings
from pgcrisis.collect.probe import ProbeContext, probe
from pgcrisis.errors import ProbeUnavailable
from pgcrisis.model.health import UNSEEN, ClientRate, Sample
from pgcrisis.model.parts import SAMPLE

ClientKey = tuple[str, str, str]  # application, address, role


def _attributed(readings: Readings, seen: Mapping[tuple[str, int], Counter[ClientKey]],
                ) -> tuple[dict[ClientKey, float], dict[ClientKey, float],
                           dict[ClientKey, dict[int, float]]]:
    """Each statement's calls and time over the window, to the clients seen running it."""
    calls: defaultdict[ClientKey, float] = defaultdict(float)
    exec_ms: defaultdict[ClientKey, float] = defaultdict(float)
    queryids: dict[ClientKey, dict[int, float]] = defaultdict(dict)
    assert readings.statements is not None
    before, after = readings.statements
    for (role, qid), end in after.items():
        if qid in readings.own:
            continue  # pgcrisis's own: never anybody's calls
        start = before.get((role, qid))
        c0, t0_ms = (start.calls, start.exec_ms) if start is not None else (0.0, 0.0)
        d_calls, d_ms = end.calls - c0, end.exec_ms - t0_ms
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
    return calls, exec_ms, queryids


def rates(readings: Readings) -> Sample:
    """The rates per client of one window's readings."""
    seen: dict[tuple[str, int], Counter[ClientKey]] = defaultdict(Counter)
    starts: dict[ClientKey, set[tuple[int, float]]] = defaultdict(set)
    connections: Counter[ClientKey] = Counter()
    for rows in readings.samples:
        per_client: Counter[ClientKey] = Counter()
        for row in rows:
            if row.backend_type != "client backend":
                continue
            key = (row.application, row.address, row.role)
            per_client[key] += 1
            if row.query_id is not None:
                seen[(row.role, row.query_id)][key] += 1
            if row.query_start is not None:
                starts[key].add((row.pid, row.query_start))
        for key, n in per_client.items():
            connections[key] = max(connections[key], n)
    if readings.statements is not None:
        calls, exec_ms, queryids = _attributed(readings, seen)
    else:
        calls = {key: float(len(started)) for key, started in starts.items()}
        exec_ms, queryids = {}, {}
    keys = set(calls) | set(connections)

    def rate(k: ClientKey) -> ClientRate:
        per_query = queryids.get(k, {})
        top = max(per_query, key=lambda q: per_query[q]) if per_query else None
        return ClientRate(application=k[0], address=k[1], role=k[2], calls=calls.get(k, 0.0),
                          exec_ms=exec_ms.get(k, 0.0), connections=connections[k],
                          queryids=tuple(sorted(per_query, key=lambda q: -per_query[q])),
                          top_queryid=top,
                          top_query_calls=per_query[top] if top is not None else 0.0)

    clients = tuple(sorted((rate(k) for k in keys), key=lambda c: -c.calls))
    return Sample(seconds=readings.seconds, clients=clients, total_calls=sum(calls.values()),
                  total_exec_ms=sum(exec_ms.values()), activity_samples=len(readings.samples),
                  statements_available=readings.statements is not None)


@probe(SAMPLE)
def sample(ctx: ProbeContext) -> Mapping[str, Any]:
    """Rates per client over triage's window (read only when a window is taken)."""
    if ctx.window is None:
        raise ProbeUnavailable("no load window was taken")
    return {"sample": rates(ctx.window.result(ctx))}
