"""A load profile from what was read (pure): samples of pg_stat_activity, and the differences
of pg_stat_statements, pg_statio_user_tables and the server-wide counters over a span.

The same function builds triage's window (:mod:`.load_window`) and a recording's frame
(:mod:`.load_frames`); each reads the server its own way and hands the readings here. Sessions
are averaged over the samples; a parallel worker counts for its leader's client and statement;
pgcrisis's own sessions (and their workers) are never counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from pgcrisis.model.contention import EXTENSION, LWLOCK, ROW_LOCKS, kind_of
from pgcrisis.model.health import LOCAL
from pgcrisis.model.load import (
    ClientLoad,
    CpuCount,
    Hidden,
    LoadProfile,
    RoleLoad,
    StatementCounters,
    StatementLoad,
    Tick,
    WaitLoad,
)
from pgcrisis.model.load_rates import ServerCounters
from pgcrisis.model.load_tables import RelationReads, RelationWrites
from pgcrisis.model.waits import CPU, is_data_file_io, wait_class

#: the application_name of pgcrisis's own sessions (never counted)
OWN = "pgcrisis"
#: statements kept in a profile: the top ones by load, and the top ones by each counter a
#: check reads (blocks read, blocks written, WAL, temp files, rows)
TOP_BY_LOAD, TOP_BY_COUNTER = 10, 5
TOP_CLIENTS, TOP_RELATIONS = 20, 10
#: what pg_stat_activity shows of another role's session without pg_read_all_stats
HIDDEN_QUERY = "<insufficient privilege>"


@dataclass(frozen=True, slots=True)
class Seen:
    """One session as one sample saw it (``address``: ``local`` for a unix socket)."""

    pid: int
    backend_type: str
    application: str
    address: str
    role: str
    state: str | None
    wait_event_type: str | None
    wait_event: str | None
    query_id: int | None = None
    query_start: float | None = None
    leader_pid: int | None = None
    hidden: bool = False


#: a statement's counters for one role, as pg_stat_statements has them (cumulative), or
#: their differences over a span
Totals = StatementCounters


#: pg_stat_statements read once: (role, queryid) -> totals
StatementTotals = Mapping[tuple[str, int], Totals]
#: pg_statio_user_tables read once: relid -> (name, counters)
RelationTotals = Mapping[int, RelationReads]
#: pg_stat_user_tables read once: relid -> rows written (cumulative)
WriteTotals = Mapping[int, RelationWrites]


def not_own(sample: Sequence[Seen]) -> list[Seen]:
    """The sessions of a sample that are not pgcrisis's own (nor their parallel workers)."""
    own = {s.pid for s in sample if s.application == OWN}
    return [s for s in sample if s.application != OWN and s.leader_pid not in own]


def own_queryids(sample: Sequence[Seen]) -> set[int]:
    """The statements pgcrisis's own sessions (and their workers) were seen running."""
    own = {s.pid for s in sample if s.application == OWN}
    return {s.query_id for s in sample
            if (s.application == OWN or s.leader_pid in own) and s.query_id is not None}


def without(deltas: Mapping[tuple[str, int], Totals], queryids: Collection[int]
            ) -> dict[tuple[str, int], Totals]:
    """``deltas`` less the statements ``queryids`` (pgcrisis's own)."""
    return {key: d for key, d in deltas.items() if key[1] not in queryids}


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None else a - (b or 0.0)


def statement_deltas(before: StatementTotals, after: StatementTotals,
                     ) -> dict[tuple[str, int], Totals]:
    """Each (role, queryid)'s counters over the span: a statement new in ``after`` counts
    from zero, one whose counters fell (a reset, an eviction) is left out."""
    out: dict[tuple[str, int], Totals] = {}
    for key, end in after.items():
        start = before.get(key)
        if start is None:
            out[key] = end
            continue
        if end.calls < start.calls or end.exec_ms < start.exec_ms:
            continue
        delta = Totals(
            end.calls - start.calls, end.exec_ms - start.exec_ms, end.rows - start.rows,
            end.shared_blks_hit - start.shared_blks_hit,
            end.shared_blks_read - start.shared_blks_read,
            end.shared_blks_written - start.shared_blks_written,
            end.shared_blks_dirtied - start.shared_blks_dirtied,
            end.temp_bytes - start.temp_bytes, _minus(end.wal_bytes, start.wal_bytes),
            _minus(end.jit_ms, start.jit_ms))
        if delta.calls > 0 or delta.exec_ms > 0:
            out[key] = delta
    return out


def relation_deltas(before: RelationTotals, after: RelationTotals, floor: int = 0
                    ) -> list[RelationReads]:
    """Each table's blocks over the span, its indexes' with it (the top ones by blocks read).
    Readings are per relation; one new in ``after`` had read fewer than ``floor`` blocks
    before (only relations past it are read): it counts from there, a lower bound."""
    tables: dict[str, list[int]] = {}
    for oid, end in after.items():
        start = before.get(oid)
        if start is None:
            start = RelationReads(end.name, min(floor, end.heap_blks_read), end.heap_blks_hit,
                                  min(floor, end.idx_blks_read), end.idx_blks_hit)
        delta = [getattr(end, f.name) - getattr(start, f.name)
                 for f in fields(RelationReads)[1:]]
        if min(delta) < 0:
            continue  # counters reset
        sums = tables.setdefault(end.name, [0] * len(delta))
        for i, d in enumerate(delta):
            sums[i] += d
    out = [RelationReads(name, *sums) for name, sums in tables.items()]
    return sorted((r for r in out if r.blks_read),
                  key=lambda r: -r.blks_read)[:TOP_RELATIONS]


def write_deltas(before: WriteTotals, after: WriteTotals, floor: int = 0
                 ) -> list[RelationWrites]:
    """Each table's rows written over the span, most first. A table new in ``after`` had
    written fewer than ``floor`` rows before (only tables past it are read): each of its
    counters counts from there, a lower bound. One whose counters fell (a reset) is left out.
    """
    out = []
    for relid, end in after.items():
        start = before.get(relid) or RelationWrites(
            end.name, min(floor, end.n_tup_ins), min(floor, end.n_tup_upd),
            min(floor, end.n_tup_hot_upd), min(floor, end.n_tup_del))
        delta = RelationWrites(
            end.name, end.n_tup_ins - start.n_tup_ins, end.n_tup_upd - start.n_tup_upd,
            end.n_tup_hot_upd - start.n_tup_hot_upd, end.n_tup_del - start.n_tup_del, relid)
        if min(delta.n_tup_ins, delta.n_tup_upd, delta.n_tup_hot_upd, delta.n_tup_del) < 0:
            continue
        if delta.written:
            out.append(delta)
    return sorted(out, key=lambda r: -r.written)[:TOP_RELATIONS]


ClientKey = tuple[str, str | None, str]  # application, client_addr, role


def _counters() -> defaultdict[Any, Counter[Any]]:
    return defaultdict(Counter)


@dataclass
class Tally:
    """Session counts over the samples, before averaging (``active``, ``on_cpu``,
    ``data_io`` per client, statement and role)."""

    samples: int = 0
    waits: Counter[tuple[str, str | None]] = field(default_factory=Counter)
    ticks: list[Tick] = field(default_factory=list)
    clients: defaultdict[ClientKey, Counter[str]] = field(default_factory=_counters)
    client_queries: defaultdict[ClientKey, Counter[int]] = field(default_factory=_counters)
    queries: defaultdict[int, Counter[str]] = field(default_factory=_counters)
    query_clients: defaultdict[int, Counter[str]] = field(default_factory=_counters)
    roles: defaultdict[str, Counter[str]] = field(default_factory=_counters)


def tally(samples: Iterable[Sequence[Seen]]) -> Tally:
    """Count each sample's active sessions by wait, client, statement and role (a parallel
    worker as its leader's)."""
    t = Tally()
    for sample in samples:
        t.samples += 1
        by_pid = {s.pid: s for s in sample}
        active = on_cpu = data_io = hidden = 0
        contended: Counter[str] = Counter()
        for s in sample:
            if s.hidden:
                hidden += 1
            kind = wait_class(s.state, s.wait_event_type)
            if kind is None:
                continue
            io = is_data_file_io(s.wait_event_type, s.wait_event)
            active, on_cpu, data_io = active + 1, on_cpu + (kind == CPU), data_io + io
            t.waits[(kind, s.wait_event if kind != CPU else None)] += 1
            who = by_pid.get(s.leader_pid or -1, s)
            client: ClientKey = (who.application,
                                 None if who.address == LOCAL else who.address, who.role)
            label = f"{client[0] or '(no name)'}@{client[1] or 'local'}"
            what = ["active"] + (["on_cpu"] if kind == CPU else []) + (["data_io"] if io else [])
            contention = kind_of(s.wait_event_type, s.wait_event)
            if contention is not None:
                what.append(contention)
                contended[contention] += 1
            for counter in (t.clients[client], t.roles[who.role]):
                counter.update(what)
            query_id = s.query_id if s.query_id is not None else who.query_id
            if query_id is not None:
                t.queries[query_id].update(what)
                t.query_clients[query_id][label] += 1
                t.client_queries[client][query_id] += 1
        t.ticks.append(Tick(active, on_cpu, data_io, hidden, **contended))
    return t


def _statement(queryid: int, per_role: Mapping[str, Totals], seen: Counter[str],
               clients: Counter[str], n: int) -> StatementLoad:
    """One statement's figures: its roles' deltas summed, its sessions averaged."""
    def total(name: str) -> float:
        return sum(getattr(d, name) or 0.0 for d in per_role.values())

    def known(name: str) -> float | None:
        values = [getattr(d, name) for d in per_role.values() if getattr(d, name) is not None]
        return sum(values) if values else None

    role = max(per_role, key=lambda r: per_role[r].exec_ms) if per_role else None
    return StatementLoad(
        total("calls"), total("exec_ms"), total("rows"), total("shared_blks_hit"),
        total("shared_blks_read"), total("shared_blks_written"), total("shared_blks_dirtied"),
        total("temp_bytes"), known("wal_bytes"), known("jit_ms"), queryid=queryid, query="",
        role=role, **statement_sessions(seen, clients, n))


# What the samples' sessions give a statement, a client and a role: written once, for the
# profile built live and for the one a recording's frame is read back as (:func:`averaged`)

def statement_sessions(seen: Counter[str], clients: Counter[str], n: int) -> dict[str, Any]:
    return {"on_cpu": seen["on_cpu"] / n, "data_io": seen["data_io"] / n,
            "active": seen["active"] / n,
            "clients": tuple(c for c, _ in clients.most_common(5)),
            "row_locks": seen[ROW_LOCKS] / n, "extension": seen[EXTENSION] / n,
            "lwlock": seen[LWLOCK] / n}


def client_sessions(seen: Counter[str], queries: Counter[int], n: int) -> dict[str, Any]:
    return {"active": seen["active"] / n, "on_cpu": seen["on_cpu"] / n,
            "data_io": seen["data_io"] / n,
            "queryids": tuple(q for q, _ in queries.most_common(5)),
            "row_locks": seen[ROW_LOCKS] / n, "extension": seen[EXTENSION] / n,
            "lwlock": seen[LWLOCK] / n}


def role_sessions(seen: Counter[str], n: int) -> dict[str, Any]:
    return {"active": seen["active"] / n, "on_cpu": seen["on_cpu"] / n,
            "data_io": seen["data_io"] / n}


def waits_of(t: Tally, n: int) -> tuple[WaitLoad, ...]:
    return tuple(sorted((WaitLoad(kind, event, count / n)
                         for (kind, event), count in t.waits.items()),
                        key=lambda w: (-w.sessions, w.wait_class, w.wait_event or "")))


#: the counters a statement is also kept for: blocks read, blocks written, WAL, temp, rows
_COUNTERS: tuple[Callable[[StatementLoad], float], ...] = (
    lambda s: s.shared_blks_read, lambda s: s.shared_blks_written + s.shared_blks_dirtied,
    lambda s: s.wal_bytes or 0.0, lambda s: s.temp_bytes, lambda s: s.rows)


def _top(rows: list[StatementLoad], seconds: float) -> tuple[StatementLoad, ...]:
    """The statements worth keeping: the top ones by load (sessions seen, or execution time
    per second), and by each counter a check reads."""
    def load(s: StatementLoad) -> float:
        return max(s.active, s.exec_ms / 1000 / seconds if seconds > 0 else 0.0)

    keep = {s.queryid for s in sorted(rows, key=load, reverse=True)[:TOP_BY_LOAD] if load(s) > 0}
    for key in _COUNTERS:
        keep |= {s.queryid for s in sorted(rows, key=key, reverse=True)[:TOP_BY_COUNTER]
                 if key(s) > 0}
    return tuple(sorted((s for s in rows if s.queryid in keep), key=load, reverse=True))


def build(samples: Sequence[Sequence[Seen]], seconds: float, cpus: CpuCount, *,
          deltas: Mapping[tuple[str, int], Totals] | None = None, statements_s: float = 0.0,
          relations: Sequence[RelationReads] = (), relations_s: float = 0.0,
          counters: tuple[ServerCounters, ...] = (), hidden: Sequence[Hidden] = (),
          source: str = "window", top: int = TOP_CLIENTS,
          writes: Sequence[RelationWrites] = ()) -> LoadProfile:
    """The profile of ``samples`` (pgcrisis's own sessions already left out) over
    ``seconds``, with the statements' ``deltas`` over ``statements_s`` and the tables'
    ``relations`` (blocks) and ``writes`` (rows) over ``relations_s``; the ``top`` clients
    and roles by active sessions. Statement texts are filled in later (:func:`with_texts`)."""
    t = tally(samples)
    n = max(t.samples, 1)
    per_query: defaultdict[int, dict[str, Totals]] = defaultdict(dict)
    per_role: defaultdict[str, list[Totals]] = defaultdict(list)
    for (role, queryid), d in (deltas or {}).items():
        per_query[queryid][role] = d
        per_role[role].append(d)
    statements = [_statement(q, per_query.get(q, {}), t.queries[q], t.query_clients[q], n)
                  for q in set(per_query) | set(t.queries)]
    clients = sorted((ClientLoad(app, addr, role, **client_sessions(
                          c, t.client_queries[(app, addr, role)], n))
                      for (app, addr, role), c in t.clients.items()),
                     key=lambda c: -c.active)[:top]
    roles = sorted((RoleLoad(r, **role_sessions(t.roles[r], n),
                             calls=sum(d.calls for d in per_role.get(r, ())),
                             exec_ms=sum(d.exec_ms for d in per_role.get(r, ())),
                             jit_ms=sum(d.jit_ms or 0.0 for d in per_role.get(r, ())))
                    for r in set(t.roles) | set(per_role)),
                   key=lambda r: (-r.active, -r.exec_ms))[:top]
    return LoadProfile(seconds, t.samples, cpus, waits_of(t, n), tuple(t.ticks),
                       _top(statements, statements_s or seconds),
                       statements_s if deltas is not None else 0.0, tuple(clients),
                       tuple(roles), tuple(relations), relations_s, counters, tuple(hidden),
                       source, tuple(writes))


def wanted_texts(profile: LoadProfile) -> list[int]:
    """The queryids whose text the profile lacks."""
    return [s.queryid for s in profile.statements if not s.query]


#: what a statement's text says: its kind and the tables it names (None: it does not parse)
Described = tuple[str, tuple[str, ...]] | None


def with_texts(profile: LoadProfile, texts: Mapping[int, str],
               is_monitoring: Callable[[str], bool] | None = None,
               describe: Callable[[str], Described] | None = None,
               target: Callable[[str], tuple[str | None, str] | None] | None = None,
               ) -> LoadProfile:
    """``profile`` with its statements' texts (where known), monitoring statements left out
    (``is_monitoring``: a predicate on the text, e.g. the statements probe's), each one's
    kind and tables as ``describe`` reads them from its text, and the table it writes or
    locks rows of (``target``: (schema, name) of a text, e.g. the SQL parser's)."""
    kept = []
    for s in profile.statements:
        text = s.query or texts.get(s.queryid, "")
        if text and is_monitoring is not None and is_monitoring(text):
            continue
        described = describe(text) if text and describe is not None and not s.kind else None
        named = (replace(s, query=text, kind=described[0], tables=described[1])
                 if described is not None else replace(s, query=text) if text != s.query else s)
        table = target(text) if text and target is not None and s.target is None else None
        if table is not None:
            named = replace(named, target_schema=table[0], target=table[1])
        kept.append(named)
    return replace(profile, statements=tuple(kept))
