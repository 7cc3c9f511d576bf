"""index-overhead: a table written heavily while it carries indexes nothing reads.

Each row inserted, and each row updated other than HOT (an update of an indexed column, or
with no room on its page), adds an entry to every index of the table: ten indexes, ten index
writes per row, their pages dirtied, their WAL written, under the same buffer locks. Judged
on the load window's ``pg_stat_user_tables`` differences (rows inserted, updated, HOT
updated, deleted), against the table's indexes (``index_hygiene``): those never scanned since
the statistics were reset that back no constraint, are not unique and are not the redundant
copy ``duplicate-index`` names. Root first: the table, the statements writing it (from the
window's ``pg_stat_statements`` differences, by the table their text names), the unused
indexes.

One finding per problem: the unused indexes of a table this check reports are named here,
with their count and sizes, and not again as ``unused-index`` (whose remedy is the same
``DROP INDEX CONCURRENTLY``); :func:`overloaded` is what both read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pgcrisis import shorten, sizes
from pgcrisis.actions import DropIndex
from pgcrisis.checks._text import plural
from pgcrisis.checks.load_drivers import client_shares, named
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.evidence import StatementShare
from pgcrisis.model.evidence_saturation import IndexOverheadEvidence
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.health import IndexDef
from pgcrisis.model.load import LoadProfile, StatementLoad
from pgcrisis.model.load_tables import RelationWrites
from pgcrisis.model.snapshot import Snapshot

#: what the server may hide that the finding needs (``Hidden.what``, collect/load_window.py)
_NEEDS = frozenset({"statements", "tables", "other roles", "queryids"})


@dataclass(frozen=True, slots=True)
class Overloaded:
    """A table written heavily over the window, its indexes and the unused ones."""

    writes: RelationWrites
    seconds: float
    indexes: tuple[IndexDef, ...]
    unused: tuple[IndexDef, ...]

    @property
    def per_s(self) -> float:
        """Rows adding index entries per second."""
        return self.writes.index_writes / self.seconds


def _unused(ix: IndexDef, redundant: set[int]) -> bool:
    return (ix.valid and ix.idx_scan == 0 and not (ix.unique or ix.primary or ix.constraint)
            and ix.oid not in redundant)


def overloaded(snapshot: Snapshot, t: Thresholds) -> list[Overloaded]:
    """The tables written heavily in the window that carry ``index_overhead_min_unused``
    indexes nothing reads, most written first (empty without a load window)."""
    from pgcrisis.checks.index_hygiene import redundant_pairs

    p = snapshot.load
    span = p.relations_s if p is not None else 0.0
    if p is None or span <= 0 or not p.writes:
        return []
    by_table: dict[int, list[IndexDef]] = {}
    for ix in snapshot.index_defs:
        by_table.setdefault(ix.table_oid, []).append(ix)
    redundant = {r.oid for r, _, _ in redundant_pairs(snapshot.index_defs)}
    out = []
    for w in p.writes:
        indexes = tuple(ix for ix in by_table.get(w.relid, ()) if ix.valid)
        unused = tuple(ix for ix in indexes if _unused(ix, redundant))
        if (w.index_writes / span >= t.index_overhead_min_writes_per_s
                and len(unused) >= t.index_overhead_min_unused):
            out.append(Overloaded(w, span, indexes, unused))
    return sorted(out, key=lambda o: -o.per_s)


def _statements(snapshot: Snapshot, p: LoadProfile, table: str, t: Thresholds,
                ) -> list[tuple[StatementLoad, StatementShare]]:
    """The statements writing ``table`` (their text's target), by the rows they wrote."""
    def target(s: StatementLoad) -> str | None:
        if not s.writes or not s.tables:
            return None
        schema, _, name = s.tables[0].rpartition(".")
        found = snapshot.relations.find(schema or None, name)
        return found.name if found is not None else None

    writers = [s for s in p.statements if target(s) == table]
    total = sum(s.rows for s in writers)
    span = p.statements_s or p.seconds or float("inf")
    out = [(s, StatementShare(
        queryid=s.queryid, share=round(s.rows / total, 3),
        measured_by="its rows (pg_stat_statements)", calls_per_s=round(s.calls / span, 1),
        exec_ms_per_s=round(s.exec_ms / span, 1),
        blks_read_per_s=round(s.shared_blks_read / span, 1), jit_share=round(s.jit_share, 3),
        role=s.role, rows_per_s=round(s.rows / span, 1),
        wal_bytes_per_s=None if s.wal_bytes is None else round(s.wal_bytes / span),
        blks_dirtied_per_s=round(s.shared_blks_dirtied / span, 1)))
        for s in writers if total > 0 and s.rows / total >= t.load_driver_min_share]
    return sorted(out, key=lambda pair: -pair[1].share)[:3]


def _finding(snapshot: Snapshot, p: LoadProfile, o: Overloaded, t: Thresholds) -> Finding:
    w, span, block = o.writes, o.seconds, snapshot.server.block_size
    statements = _statements(snapshot, p, w.name, t)
    hidden = p.hidden_lines(_NEEDS)
    unused_bytes = sum(ix.relpages for ix in o.unused) * block
    names = [ix.name for ix in o.unused]
    writer = f" by {named(statements[0][0])}" if statements else ""
    sessions = sum(s.active for s, _ in statements)
    queryids = {s.queryid for s, _ in statements}
    clients = client_shares(p, lambda c: c.active if queryids & set(c.queryids) else 0.0,
                             sum(c.active for c in p.clients if queryids & set(c.queryids)), t)
    return Finding(
        code="index-overhead", severity=Severity.WARNING,
        title=(f"{w.name} takes {o.per_s:,.0f} index-adding writes/s{writer} into "
               f"{len(o.indexes)} indexes, {len(o.unused)} of them never read"),
        detail=(f"Over {span:.1f} s {w.name} had (by its counters, which sessions report "
                f"about once a second) {w.n_tup_ins / span:,.0f} rows/s inserted, "
                f"{w.n_tup_upd / span:,.0f} updated ({w.n_tup_hot_upd / span:,.0f} of them "
                f"HOT, touching no index) and {w.n_tup_del / span:,.0f} deleted: "
                f"{o.per_s:,.0f} rows/s each added an entry to all {len(o.indexes)} of its "
                f"indexes ({o.per_s * len(o.indexes):,.0f} index entries/s). "
                f"{len(o.unused)} of them have not been scanned since the statistics were "
                f"reset and back no constraint ({sizes.words(unused_bytes)}): "
                f"{shorten.listed(names)}. Each write pays for them and nothing reads them "
                "(check that the period covers monthly jobs and a replica's reads: "
                "statistics are per server)."
                + (" Writing it: " + "; ".join(
                    f"{named(s)} {e.share:.0%} ({e.rows_per_s:,.0f} rows/s)"
                    for s, e in statements) + "." if statements else "")
                + (" Clients: " + "; ".join(f"{c.label} (role {c.role}) {e.share:.0%}"
                                            for c, e in clients) + "." if clients else "")
                + (" Not seen: " + "; ".join(hidden) + "." if hidden else "")),
        objects=(ObjectRef("relation", name=w.name),
                 *(ObjectRef("query", queryid=s.queryid,
                             name=shorten.query(s.query, 60) if s.query
                             else f"query {s.queryid}") for s, _ in statements),
                 *(ObjectRef.client(c.application, c.address) for c, _ in clients),
                 *(ObjectRef("index", name=n) for n in names)),
        evidence=IndexOverheadEvidence(
            table=w.name, window_s=round(span, 2),
            inserted_per_s=round(w.n_tup_ins / span, 1),
            updated_per_s=round(w.n_tup_upd / span, 1),
            hot_updated_per_s=round(w.n_tup_hot_upd / span, 1),
            deleted_per_s=round(w.n_tup_del / span, 1),
            index_entries_per_s=round(o.per_s * len(o.indexes), 1), indexes=len(o.indexes),
            unused=tuple(names), unused_entries_per_s=round(o.per_s * len(o.unused), 1),
            unused_bytes=unused_bytes, statements=tuple(e for _, e in statements),
            clients=tuple(e for _, e in clients), not_seen=hidden),
        remedy=Remedy(
            f"Drop the {len(o.unused)} indexes nothing reads, without blocking writes (keep "
            "their definitions to build them again); every write to the table then adds "
            f"{plural(len(o.indexes) - len(o.unused), 'index entry', 'index entries')} "
            f"instead of {len(o.indexes)}.",
            tuple(DropIndex(n) for n in names)),
        impact=max(sessions, 1.0) * 1e6 + o.per_s * len(o.unused))


@check("index-overhead", needs=("load", "index_hygiene"))
def index_overhead(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Tables written heavily while they carry many indexes nothing reads."""
    p = snapshot.load
    if p is None:
        return
    for o in overloaded(snapshot, t):
        yield _finding(snapshot, p, o, t)
