"""Connection checks: connection-saturation and runaway-client.

connection-saturation
    Client connections against the slots ordinary roles may use (max_connections less
    superuser_reserved_connections and reserved_connections), and against each database's and
    role's CONNECTION LIMIT; and piles of idle connections from one client (a pool sized far
    above its need, or a leak). The objects name the clients holding the most connections.
runaway-client
    One client (application@address; else one application from any address, ``app@*``; one
    address whatever the application, ``*@address``; one role) holding a disproportionate
    share of the connections: at least half, several times the next one, and a real share
    of the slots.
    With ``--sample``, also one client making a disproportionate share of the calls, at a
    rate no person types, most of them one statement repeated: the seed incident's
    integration stuck in a loop of API calls (a benchmark or a busy application spreads its
    calls over many statements).

pgcrisis's own sessions are never counted against anyone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from pgcrisis import shorten
from pgcrisis.actions import CapConnections, TerminateSessions
from pgcrisis.checks._text import plural
from pgcrisis.checks.registry import check
from pgcrisis.checks.sessions import is_own
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.activity import Backend, SessionGroup
from pgcrisis.model.evidence import (
    IdlePileEvidence,
    RunawayCallsEvidence,
    RunawayConnectionsEvidence,
)
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.health import ClientRate, client_label
from pgcrisis.model.snapshot import Snapshot

#: a client connection: a session's row, or sessions a recording counted (``sessions`` each)
Connection = Backend | SessionGroup
K = TypeVar("K", bound=Hashable)


def clients(snapshot: Snapshot) -> list[Connection]:
    """Client backends other than pgcrisis's own (a recording's counted sessions too)."""
    own = snapshot.server.own_pid
    return [b for b in snapshot.all_sessions()
            if b.is_client and not is_own(b) and not (isinstance(b, Backend) and b.pid == own)]


def _count(backends: Iterable[Connection]) -> int:
    """How many sessions."""
    return sum(b.sessions for b in backends)


def _tally(backends: Iterable[Connection], key: Callable[[Connection], K]) -> Counter[K]:
    """Sessions per ``key``, in order of first appearance."""
    out: Counter[K] = Counter()
    for b in backends:
        out[key(b)] += b.sessions
    return out


def _label(b: Connection) -> str:
    return client_label(b.application_name, b.client_addr)


def _top_clients(backends: list[Connection], n: int = 3) -> list[tuple[str, int]]:
    return _tally(backends, _label).most_common(n)


def _client_refs(backends: list[Connection], n: int = 3) -> tuple[ObjectRef, ...]:
    """The ``n`` clients (application, address) holding most of ``backends``, as objects
    with the contract's keys."""
    ranked = _tally(backends, lambda b: (b.application_name, b.client_addr)).most_common(n)
    return tuple(ObjectRef.client(app, addr) for (app, addr), _ in ranked)


def _saturation(scope: str, obj: ObjectRef, used: int, limit: int, backends: list[Connection],
                t: Thresholds, setting: str) -> Finding | None:
    share = used / limit if limit > 0 else 0.0
    if share < t.connection_warning_share:
        return None
    top = _top_clients(backends)
    return Finding(
        code="connection-saturation",
        severity=(Severity.CRITICAL if share >= t.connection_critical_share
                  else Severity.WARNING),
        title=f"{scope}: {used} of {limit} connections in use ({share:.0%})",
        detail=(f"{used} client connections against a limit of {limit} ({setting}). When it is "
                "reached new connections fail with 'too many clients' / 'too many "
                "connections'. Most held by: "
                + ", ".join(f"{name} ({n})" for name, n in top) + "."),
        objects=(*_client_refs(backends), obj),
        evidence={"in_use": used, "limit": limit, "share": round(share, 3),
                  "states": dict(_tally(backends, lambda b: b.state or "?")),
                  "top_clients": dict(top)},
        remedy=Remedy(
            "Put a connection pooler (PgBouncer, transaction mode) in front of the clients, "
            "shrink the largest pools, and end idle sessions; raise the limit only with the "
            "memory to back it (max_connections needs a restart).",
            (TerminateSessions(idle_only=True, idle_for="10 minutes"),),
        ),
        impact=share * 1e6,
    )


def _idle_piles(snapshot: Snapshot, t: Thresholds, backends: list[Connection],
                usable: int) -> Iterable[Finding]:
    idle = [b for b in backends if b.state == "idle"]
    minimum = max(t.idle_pile_min, int(t.idle_pile_share * usable))
    for name, n in _tally(idle, _label).most_common():
        if n < minimum:
            break
        mine = [b for b in idle if _label(b) == name]
        roles = _tally(mine, lambda b: b.usename or "?")
        app = mine[0].application_name
        # a counted session's age is not known: it counts as 0 (a lower bound)
        longest = max((b.state_age_s or 0.0) if isinstance(b, Backend) else 0.0 for b in mine)
        yield Finding(
            code="connection-saturation",
            severity=Severity.WARNING,
            title=f"{name} keeps {n} idle connections ({n / usable:.0%} of the usable slots)",
            detail=(f"{n} connections from {name} sit idle (the longest for {longest:,.0f} s), "
                    f"out of {usable} slots. A pool sized far above its need, or a client that "
                    "opens connections and never closes them; either way they are slots other "
                    "clients cannot have."),
            objects=(*_client_refs(mine),
                     *(ObjectRef("role", name=r) for r, _ in roles.most_common(1))),
            evidence=IdlePileEvidence(idle=n, usable_slots=usable,
                                      longest_idle_s=round(longest, 1), roles=dict(roles)),
            remedy=_idle_pile_remedy(app, roles.most_common(1)[0][0], role_cap(usable, t)),
            impact=float(n),
        )


def role_cap(usable: int, t: Thresholds) -> int:
    """The CONNECTION LIMIT a brake puts on a client's role: the share of the slots that
    makes a client a runaway (``runaway_min_connection_share``), at least 1."""
    return max(1, int(usable * t.runaway_min_connection_share))


def _idle_pile_remedy(app: str, role: str, cap: int) -> Remedy:
    """End the client's idle sessions (those of its role only: another client may share
    the application name), and cap the role so the pile cannot grow back at once."""
    if role == "?":
        return Remedy("Shrink the client's pool (or fix the leak); meanwhile end its idle "
                      "sessions.", (TerminateSessions(app, idle_only=True),))
    return Remedy(
        "Shrink the client's pool (or fix the leak); meanwhile end its idle sessions and cap "
        "its role's connections so the pile cannot grow back at once.",
        (TerminateSessions(app, role, idle_only=True), CapConnections(role, cap)))


@check("connection-saturation", needs=("activity", "server_health"))
def connection_saturation(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Connections near max_connections or a database/role limit; idle piles per client."""
    health = snapshot.server_health
    backends = clients(snapshot)
    usable = health.usable_connections
    found = _saturation("server", ObjectRef("setting", name="max_connections"),
                        _count(backends) + 1, usable, backends, t,
                        "max_connections less reserved connections")
    if found:
        yield found
    for d in health.databases:
        if d.connection_limit < 0:
            continue
        mine = [b for b in backends if b.datname == d.name]
        found = _saturation(f"database {d.name}", ObjectRef("database", name=d.name),
                            _count(mine), d.connection_limit, mine, t,
                            "the database's CONNECTION LIMIT")
        if found:
            yield found
    for r in health.role_limits:
        mine = [b for b in backends if b.usename == r.name]
        found = _saturation(f"role {r.name}", ObjectRef("role", name=r.name), _count(mine),
                            r.connection_limit, mine, t, "the role's CONNECTION LIMIT")
        if found:
            yield found
    yield from _idle_piles(snapshot, t, backends, usable)


def _disproportionate(counts: Counter[str], share: float, ratio: float,
                      minimum: float) -> tuple[str, int] | None:
    ranked = counts.most_common(2)
    if len(ranked) < 2:
        return None
    (top, n), (_, second) = ranked
    total = sum(counts.values())
    if n / total >= share and n >= ratio * second and n >= minimum:
        return top, n
    return None


def _group_refs(scope: str, name: str, mine: list[Connection]) -> tuple[ObjectRef, ...]:
    """The objects a group of connections is about, with the contract's keys. One client:
    itself. One application from several addresses: that application, with no
    ``client_addr`` (it has no single one). One address, whatever the application: its
    clients, most connections first (a client's key is its application_name). One role."""
    if scope == "role":
        return (ObjectRef("role", name=name),)
    if scope == "application":
        return (ObjectRef.client(mine[0].application_name, None, name=name),)
    return _client_refs(mine)


def _connection_runaway(snapshot: Snapshot, t: Thresholds) -> Finding | None:
    backends = clients(snapshot)
    usable = snapshot.server_health.usable_connections
    minimum = t.runaway_min_connection_share * usable
    # finest first: one client, then one application from anywhere, one address whatever
    # the application, one role
    keys: tuple[tuple[str, Callable[[Connection], str]], ...] = (
        ("client", _label),
        ("application", lambda b: client_label(b.application_name, "*")),
        ("address", lambda b: client_label("*", b.client_addr)),
        ("role", lambda b: b.usename or "?"))
    for scope, key in keys:
        kind = "role" if scope == "role" else "client"
        counts = _tally(backends, key)
        hit = _disproportionate(counts, t.runaway_connection_share, t.runaway_ratio, minimum)
        if hit is None:
            continue
        name, n = hit
        mine = [b for b in backends if key(b) == name]
        states = _tally(mine, lambda b: b.state or "?")
        nxt = counts.most_common(2)[1]
        roles = _tally(mine, lambda b: b.usename or "?")
        total = _count(backends)
        return Finding(
            code="runaway-client",
            severity=Severity.WARNING,
            title=(f"{kind} {name} holds {n} of {total} client connections "
                   f"({n / total:.0%}; next: {nxt[0]} with {nxt[1]})"),
            detail=(f"{plural(n, 'connection')} from {kind} {name}, {n / usable:.0%} of the "
                    f"usable slots; states: "
                    + ", ".join(f"{s} {c}" for s, c in states.most_common()) + ". One client "
                    "with that many connections is a pool gone wrong or a loop opening "
                    "connections; it crowds everyone else out."),
            objects=(*_group_refs(scope, name, mine),
                     *((ObjectRef("role", name=roles.most_common(1)[0][0]),)
                       if kind == "client" else ())),
            evidence=RunawayConnectionsEvidence(
                connections=n, client_connections=total, share=round(n / total, 3),
                usable_slots=usable, next={"name": nxt[0], "connections": nxt[1]},
                states=dict(states)),
            remedy=Remedy(
                "Find the code path that opens these connections and cap its pool; a "
                "CONNECTION LIMIT on its role keeps it from taking every slot meanwhile.",
                (CapConnections(roles.most_common(1)[0][0], role_cap(usable, t)),),
            ),
            impact=float(n),
        )
    return None


def _merge_by_client(rates: Iterable[ClientRate]) -> dict[str, list[ClientRate]]:
    merged: dict[str, list[ClientRate]] = {}
    for r in rates:
        merged.setdefault(r.label, []).append(r)
    return merged


def _dominant(values: dict[str, float], total: float, seconds: float, share_min: float,
              ratio: float, rate_min: float) -> str | None:
    """The client whose value is at least ``share_min`` of ``total``, ``ratio`` times the
    next one's, and ``rate_min`` per second; None if there is none."""
    if total <= 0 or not values:
        return None
    ranked = sorted(values.items(), key=lambda kv: -kv[1])
    name, top = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    if top / total < share_min or top / seconds < rate_min or top < ratio * second:
        return None
    return name


def _query_ref(snapshot: Snapshot, queryid: int) -> ObjectRef:
    """A statement by queryid, named by its text where pg_stat_statements' top rows have it."""
    st = snapshot.statements.by_queryid(queryid)
    return ObjectRef("query", queryid=queryid,
                     name=shorten.query(st.query, 60) if st else f"query {queryid}")


def _call_runaway(snapshot: Snapshot, t: Thresholds) -> Finding | None:
    sample = snapshot.sample
    if sample is None or sample.total_calls <= 0:
        return None
    merged = _merge_by_client(sample.clients)
    calls = {name: sum(r.calls for r in rs) for name, rs in merged.items()}
    times = {name: sum(r.exec_ms for r in rs) for name, rs in merged.items()}
    name = (_dominant(calls, sample.total_calls, sample.seconds, t.runaway_call_share,
                      t.runaway_ratio, t.runaway_min_calls_per_s)
            or _dominant(times, sample.total_exec_ms, sample.seconds, t.runaway_call_share,
                         t.runaway_ratio, t.runaway_min_exec_ms_per_s))
    if name is None:
        return None
    top = calls[name]
    second = max((v for k, v in calls.items() if k != name), default=0.0)
    share = top / sample.total_calls
    time_share = times[name] / sample.total_exec_ms if sample.total_exec_ms > 0 else 0.0
    rate = top / sample.seconds
    rs = merged[name]
    # a loop repeats itself: one statement makes most of its calls (a benchmark or a busy
    # application spreads its calls over many)
    best = max(rs, key=lambda r: r.top_query_calls)
    repeat = best.top_query_calls / top if top > 0 else 0.0
    if sample.statements_available and repeat < t.runaway_repeat_share:
        return None
    exec_per_s = sum(r.exec_ms for r in rs) / sample.seconds
    roles = sorted({r.role for r in rs})
    queryids = list(dict.fromkeys(
        [*([best.top_queryid] if best.top_queryid is not None else []),
         *(q for r in rs for q in r.queryids)]))[:3]
    app = rs[0].application
    return Finding(
        code="runaway-client",
        severity=(Severity.CRITICAL if exec_per_s >= t.runaway_critical_exec_ms_per_s
                  else Severity.WARNING),
        title=(f"client {name} made {rate:,.0f} calls/s ({share:.0%} of all calls, "
               f"{time_share:.0%} of the execution time) over a {sample.seconds:.0f} s sample"),
        detail=(f"Over {sample.seconds:.1f} s, {name} (role {', '.join(roles)}) made "
                f"{top:,.0f} calls, {exec_per_s:,.0f} ms of execution per second, against "
                f"{second:,.0f} for the next client; {repeat:.0%} of its calls are one "
                f"statement (query {best.top_queryid}). A rate like this from one client, "
                "repeating itself, is a loop (a retry storm, an integration re-polling, N+1 "
                "queries), not users."),
        objects=((ObjectRef.client(app, rs[0].client_addr),) if rs[0].seen else ())
                + tuple(ObjectRef("role", name=r) for r in roles[:1])
                + tuple(_query_ref(snapshot, q) for q in queryids),
        evidence=RunawayCallsEvidence(
            calls_per_s=round(rate, 1), exec_ms_per_s=round(exec_per_s, 1),
            share=round(share, 3), time_share=round(time_share, 3),
            window_s=round(sample.seconds, 2), calls=round(top), next_calls=round(second),
            top_statement_share=round(repeat, 3),
            connections=sum(r.connections for r in rs), queryids=tuple(queryids),
            measured_with=("pg_stat_statements" if sample.statements_available
                           else "pg_stat_activity only (a lower bound)")),
        remedy=Remedy(
            "Stop the loop at its source (the integration or job behind this client); to "
            "protect everyone else meanwhile, end its sessions and cap its role's connections.",
            (TerminateSessions(app),),
        ),
        impact=rate + exec_per_s,
    )


@check("runaway-client", needs=("activity", "server_health"))
def runaway_client(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """One client with a disproportionate share of connections, or (sampled) of calls."""
    for finding in (_call_runaway(snapshot, t), _connection_runaway(snapshot, t)):
        if finding is not None:
            yield finding
