"""Index checks: missing-index, fk-missing-index.

missing-index
    A costly statement filters a large table on columns no index leads with, and the table is
    read sequentially (pg_stat_user_tables). The probe proposed the index from the statement's
    predicates and, where hypopg is installed, had the planner cost the statement with it; a
    verified candidate that does not cut the cost at least ``Thresholds.missing_index_min_gain``
    times is dropped, an unverified one is reported as such (evidence ``verified: false`` and
    ``unverified_reason``). Critical when verified and the statement takes at least
    ``Thresholds.missing_index_critical_share`` of the database's statement time (the seed
    incident's order workflow); a warning otherwise.

    A table never measured (``relpages`` 0: filled minutes ago, by a bulk load, a migration,
    a restore, and not vacuumed or analyzed since) is judged by the rows its counters show
    (``Thresholds.missing_index_min_rows``), its size said to be unknown until ANALYZE. With
    no column statistics the planner guesses how many rows match; where it guessed at least
    as many as the statement really returned per call and still chose the hypothetical
    index, the index is verified whatever the gain it costed (the real gain is larger).
fk-missing-index
    A foreign key whose referencing columns no index leads with: every delete (or key update)
    of a referenced row scans the referencing table to check it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pgcrisis import shorten, sizes
from pgcrisis.actions import CreateIndex
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.evidence import FkMissingIndexEvidence, MissingIndexEvidence
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.relations import Relations, Table
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.model.statements import IndexAdvice, Statement

_MAX_IDENT = 63  # NAMEDATALEN - 1


def index_name(relations: Relations, table: Table, columns: Sequence[str]) -> str:
    """A name for a new index, ``<table>_<cols>_idx``, not yet taken in the table's schema.

    >>> t = Table(1, "public", "orders", "public.orders", "r", 1, 1.0, 0, 0, 0, 0)
    >>> index_name(Relations((t,)), t, ["site_id"])
    'orders_site_id_idx'
    """
    base = "_".join([table.relname, *columns])[: _MAX_IDENT - 6]
    taken = relations.index_names(table.schema)
    name, n = f"{base}_idx", 1
    while name in taken:
        name, n = f"{base}_idx{n}", n + 1
    return name


def create_index(relations: Relations, table: Table, columns: Sequence[str]) -> CreateIndex:
    """``CREATE INDEX CONCURRENTLY`` for ``columns`` of ``table``, under a name not taken."""
    return CreateIndex.on_columns(table.schema, table.relname,
                                  index_name(relations, table, columns), columns)


def _size(table: Table, block_size: int) -> str:
    """Its size from relpages, or, never measured (relpages 0) though its counters show rows,
    that it is unknown: never "0 MB" for a table just filled."""
    if table.size_unknown:
        return "size unknown until ANALYZE"
    return sizes.words(table.relpages * block_size, largest="MB")


def _measured(table: Table, block_size: int) -> str:
    """Its size and rows, as the planner counts them, or as its counters show them when it
    was never measured.

    >>> t = Table(1, "public", "t", "public.t", "r", 0, 0.0, 3, 900, 0, 500, n_tup_ins=500)
    >>> _measured(t, 8192)
    'size unknown until ANALYZE; its counters show 500 live rows, 500 inserted, the planner none'
    """
    if not table.size_unknown:
        return f"{_size(table, block_size)}, ~{table.reltuples:,.0f} rows"
    if table.n_live_tup >= table.rows_per_seq_scan:
        shown = f"{table.n_live_tup:,} live rows, {table.n_tup_ins:,} inserted"
    else:
        shown = f"at least {table.rows:,.0f} rows read per sequential scan"
    return f"{_size(table, block_size)}; its counters show {shown}, the planner none"


def _large(t: Thresholds, table: Table) -> bool:
    """Large enough to need an index: by its pages, or, never measured, by its rows."""
    if table.size_unknown:
        return table.rows >= t.missing_index_min_rows
    return table.relpages >= t.missing_index_min_pages


def _rows_per_call(st: Statement) -> float:
    return st.rows / st.calls if st.calls else 0.0


def _on_a_guess(advice: IndexAdvice, st: Statement, table: Table) -> bool:
    """Verified on a table with no statistics, where the planner guessed at least as many
    rows per call as the statement really returned: it chose the index even so, and with the
    real (smaller) share of the rows the index plan only gets cheaper than it costed."""
    return (table.size_unknown and advice.verified and advice.planner_rows is not None
            and advice.gain is not None and advice.gain > 1
            and _rows_per_call(st) <= advice.planner_rows)


def _proof(advice: IndexAdvice, st: Statement, table: Table, cols: str) -> str:
    gain = advice.gain
    if not advice.verified:
        return f"Not verified with the planner: {advice.note}."
    proof = (f"With a hypothetical index on ({cols}) the planner's cost drops from "
             f"{advice.cost_before:,.0f} to {advice.cost_after:,.0f} ({gain:,.0f}x).")
    if not _on_a_guess(advice, st, table):
        return proof
    return (proof[:-1] + f", though {table.name} has no statistics yet (never analyzed): "
            f"it guessed {advice.planner_rows:,.0f} matching rows per call, and the statement "
            f"returned {_rows_per_call(st):,.1f} per call (pg_stat_statements), so the index "
            "serves it better still.")


def _missing_index(snapshot: Snapshot, t: Thresholds, advice: IndexAdvice,
                   st: Statement, table: Table) -> Finding | None:
    if st.total_exec_ms < t.missing_index_min_ms or not _large(t, table):
        return None
    if table.seq_scan == 0:
        return None  # nothing reads it sequentially: the planner found a way already
    gain = advice.gain
    if (advice.verified and (gain is None or gain < t.missing_index_min_gain)
            and not _on_a_guess(advice, st, table)):
        return None
    db_total = snapshot.statements.db_total_exec_ms
    share = st.total_exec_ms / db_total if db_total > 0 else 0.0
    critical = advice.verified and share >= t.missing_index_critical_share
    cols = ", ".join(advice.columns)
    name = shorten.query(st.query, 60)
    saving = st.total_exec_ms * (1 - 1 / gain) if gain else st.total_exec_ms / 2
    rows_per_scan = table.seq_tup_read / table.seq_scan
    remedy = create_index(snapshot.relations, table, advice.columns)
    guess = _on_a_guess(advice, st, table)
    return Finding(
        code="missing-index",
        severity=Severity.CRITICAL if critical else Severity.WARNING,
        title=(f"{table.name} has no index on ({cols}) for {st.label}: "
               f"{st.calls:,} calls, {st.total_exec_ms / 1000:,.1f} s "
               f"({share:.0%} of the database's statement time)"),
        detail=(
            f"{name} compares {cols} of {table.name} "
            f"({_measured(table, snapshot.server.block_size)}) with values, and no valid index "
            "leads with "
            f"{'them' if len(advice.columns) > 1 else 'it'}: {table.name} was read "
            f"sequentially {table.seq_scan:,} times, ~{rows_per_scan:,.0f} rows each. "
            f"The statement ran {st.calls:,} times, {st.mean_exec_ms:,.1f} ms on average. "
            f"{_proof(advice, st, table, cols)}"
            + (f" {len(advice.also_queryids)} other statement(s) filter the same way."
               if advice.also_queryids else "")
        ),
        objects=(ObjectRef("relation", name=table.name), ObjectRef("query", name=name,
                                                                    queryid=st.queryid)),
        evidence=MissingIndexEvidence(
            table=table.name,
            columns=tuple(advice.columns),
            queryid=st.queryid,
            calls=st.calls,
            mean_ms=round(st.mean_exec_ms, 2),
            total_ms=round(st.total_exec_ms, 1),
            share_of_db_time=round(share, 3),
            cost_before=advice.cost_before,
            cost_after=advice.cost_after,
            verified=advice.verified,
            unverified_reason=None if advice.verified else advice.note,
            relpages=table.relpages,
            reltuples=table.reltuples,
            seq_scan=table.seq_scan,
            seq_tup_read=table.seq_tup_read,
            also_queryids=tuple(advice.also_queryids),
            unmeasured=True if table.size_unknown else None,
            live_rows=table.n_live_tup if table.size_unknown else None,
            rows_inserted=table.n_tup_ins if table.size_unknown else None,
            planner_rows=advice.planner_rows if guess else None,
            rows_per_call=round(_rows_per_call(st), 2) if guess else None,
        ),
        remedy=Remedy(
            summary=(f"Create the index on {table.name} ({cols}) without blocking writes "
                     "(CONCURRENTLY cannot run inside a transaction block)."),
            actions=(remedy,),
        ),
        impact=saving / 1000,
    )


@check("missing-index", needs=("statements", "relations", "index_advice"))
def missing_index(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """A costly statement reads a large table sequentially where an index would serve it."""
    for advice in snapshot.index_advice.advice:
        st = snapshot.statements.by_queryid(advice.queryid)
        table = snapshot.relations.table(advice.table_oid)
        if st is None or table is None:
            continue
        finding = _missing_index(snapshot, t, advice, st, table)
        if finding is not None:
            yield finding


@check("fk-missing-index", needs=("relations",))
def fk_missing_index(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """A foreign key whose referencing columns no index leads with."""
    relations = snapshot.relations
    for fk in relations.foreign_keys:
        table = relations.table(fk.table_oid)
        if table is None or table.relkind == "p" or table.rows < t.fk_min_rows:
            continue
        if relations.lookup_index(fk.table_oid, fk.columns) is not None:
            continue
        cols = ", ".join(fk.columns)
        referenced = relations.table(fk.referenced_oid)
        changes = (referenced.n_tup_del + referenced.n_tup_upd) if referenced else 0
        yield Finding(
            code="fk-missing-index",
            severity=Severity.WARNING,
            title=(f"{table.name} ({cols}) references {fk.referenced_table} without an index: "
                   f"~{table.rows:,.0f} rows scanned per referenced delete"),
            detail=(
                f"Foreign key {fk.name} of {table.name} ({cols}) references "
                f"{fk.referenced_table} ({', '.join(fk.referenced_columns)}), and no valid "
                f"index of {table.name} leads with ({cols}). Every DELETE of a "
                f"{fk.referenced_table} row, and every update of its key, scans "
                f"{table.name} (~{table.rows:,.0f} rows, "
                f"{_size(table, snapshot.server.block_size)}) to check for references, "
                f"holding its locks meanwhile; {fk.referenced_table} has seen {changes:,} "
                "deletes and updates since statistics were reset."
            ),
            objects=(ObjectRef("relation", name=table.name),
                     ObjectRef("relation", name=fk.referenced_table)),
            evidence=FkMissingIndexEvidence(
                constraint=fk.name,
                table=table.name,
                columns=tuple(fk.columns),
                referenced_table=fk.referenced_table,
                referenced_columns=tuple(fk.referenced_columns),
                reltuples=table.reltuples,
                relpages=table.relpages,
                referenced_deletes_updates=changes,
            ),
            remedy=Remedy(
                summary=f"Index {table.name} ({cols}) without blocking writes.",
                actions=(create_index(relations, table, fk.columns),),
            ),
            # rows scanned per referenced delete, in millions: ranks by the work each delete does
            impact=table.rows / 1e6,
        )
