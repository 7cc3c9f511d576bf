"""Index hygiene: invalid-index, duplicate-index, unused-index.

invalid-index
    An index left invalid by a failed ``CREATE INDEX CONCURRENTLY`` (or ``REINDEX
    CONCURRENTLY``): never used for reads, still updated on every write, and for a unique
    index still enforcing nothing. One being built right now is left alone.
duplicate-index
    Two indexes of a table keyed identically (same columns or expressions, operator classes,
    collations, order, predicate, method), or a btree index whose keys are a leading prefix of
    another's (the longer one serves every lookup the shorter one does). The one to keep is the
    one backing a constraint, then the more used; a unique or constraint index is never called
    redundant to a non-unique one.
unused-index
    A valid index never scanned since statistics were last reset that backs no constraint and
    is not tiny: it costs every write and buys nothing. Info below 1 GB, a warning above.
    One of a table that ``index-overhead`` reports (written heavily in the load window with
    several such indexes) is named there instead: one finding per problem.
"""

from __future__ import annotations

from collections.abc import Iterable

from pgcrisis import sizes
from pgcrisis.actions import CreateIndex, DropIndex
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.evidence import (
    DuplicateIndexEvidence,
    InvalidIndexEvidence,
    UnusedIndexEvidence,
)
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.health import IndexDef
from pgcrisis.model.snapshot import Snapshot


def _size(ix: IndexDef, block_size: int) -> str:
    return sizes.words(ix.relpages * block_size, largest="MB")


def _concurrently(definition: str) -> str:
    """``CREATE [UNIQUE] INDEX x ...`` -> ``CREATE [UNIQUE] INDEX CONCURRENTLY x ...``.

    >>> _concurrently("CREATE UNIQUE INDEX a ON public.t USING btree (x)")
    'CREATE UNIQUE INDEX CONCURRENTLY a ON public.t USING btree (x)'
    """
    return definition.replace(" INDEX ", " INDEX CONCURRENTLY ", 1)


@check("invalid-index", needs=("index_hygiene",))
def invalid_index(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Indexes left invalid by a failed concurrent build."""
    for ix in snapshot.index_defs:
        if ix.valid or ix.being_built:
            continue
        kind = "unique index" if ix.unique else "index"
        yield Finding(
            code="invalid-index",
            severity=Severity.WARNING,
            title=f"{kind} {ix.name} on {ix.table} is invalid",
            detail=(f"{ix.definition}: a CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY "
                    "failed (or was cancelled) and left it behind. The planner never uses it, "
                    "but every insert and update still maintains it"
                    + (", and it enforces no uniqueness: duplicates are probably what made "
                       "the build fail" if ix.unique else "") + "."),
            objects=(ObjectRef("index", name=ix.name), ObjectRef("relation", name=ix.table)),
            evidence=InvalidIndexEvidence(definition=ix.definition, unique=ix.unique,
                                          relpages=ix.relpages, ready=ix.ready),
            remedy=Remedy(
                "Drop it and build it again concurrently (for a unique index, remove the "
                "duplicates first).",
                (DropIndex(ix.name), CreateIndex.written(ix.name, _concurrently(ix.definition))),
            ),
            impact=float(ix.relpages),
        )


def _keep_rank(ix: IndexDef) -> tuple[int, int, int, int]:
    """Sort key: the index to keep first (constraint, unique, more scans, older)."""
    return (0 if ix.constraint else 1, 0 if ix.unique else 1, -ix.idx_scan, ix.oid)


def redundant_pairs(indexes: Iterable[IndexDef]) -> list[tuple[IndexDef, IndexDef, str]]:
    """``(redundant, kept, how)`` for every index another makes redundant (pure).

    ``how`` is ``identical`` or ``prefix``. Each redundant index appears once.
    """
    by_table: dict[int, list[IndexDef]] = {}
    for ix in indexes:
        if ix.valid:
            by_table.setdefault(ix.table_oid, []).append(ix)
    found: list[tuple[IndexDef, IndexDef, str]] = []
    for group in by_table.values():
        done: set[int] = set()
        ranked = sorted(group, key=_keep_rank)
        for i, keep in enumerate(ranked):
            if keep.oid in done:
                continue
            for other in ranked[i + 1:]:
                if other.oid in done or other.primary or other.constraint:
                    continue
                if (other.method, other.keys, other.expressions, other.predicate,
                        other.include) == (keep.method, keep.keys, keep.expressions,
                                           keep.predicate, keep.include):
                    found.append((other, keep, "identical"))
                    done.add(other.oid)
        for short in group:
            if short.oid in done or short.unique or short.constraint or short.method != "btree":
                continue
            for long in group:
                if (long.oid != short.oid and long.oid not in done and long.method == "btree"
                        and long.predicate == short.predicate
                        and long.expressions == short.expressions
                        and len(long.keys) > len(short.keys)
                        and long.keys[: len(short.keys)] == short.keys):
                    found.append((short, long, "prefix"))
                    done.add(short.oid)
                    break
    return found


@check("duplicate-index", needs=("index_hygiene",))
def duplicate_index(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Indexes identical to another, or a leading prefix of another (btree)."""
    block = snapshot.server.block_size
    for redundant, kept, how in redundant_pairs(snapshot.index_defs):
        what = ("is identical to" if how == "identical"
                else "is a leading prefix of")
        yield Finding(
            code="duplicate-index",
            severity=Severity.WARNING,
            title=f"{redundant.name} {what} {kept.name} on {redundant.table}",
            detail=(f"{redundant.definition} ({_size(redundant, block)}, "
                    f"{redundant.idx_scan:,} scans) {what} {kept.definition} "
                    f"({kept.idx_scan:,} scans)"
                    + ("" if how == "identical" else
                       ", which serves every lookup the shorter one does")
                    + ". Every write maintains both; drop the redundant one."),
            objects=(ObjectRef("index", name=redundant.name),
                     ObjectRef("index", name=kept.name),
                     ObjectRef("relation", name=redundant.table)),
            evidence=DuplicateIndexEvidence(
                redundant=redundant.name, kept=kept.name, how=how,
                redundant_relpages=redundant.relpages, redundant_scans=redundant.idx_scan,
                kept_scans=kept.idx_scan),
            remedy=Remedy("Drop the redundant index without blocking writes.",
                          (DropIndex(redundant.name),)),
            impact=float(redundant.relpages),
        )


@check("unused-index", needs=("index_hygiene",))
def unused_index(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Valid, non-constraint indexes never scanned, above a minimum size."""
    from pgcrisis.checks.index_overhead import overloaded

    block = snapshot.server.block_size
    redundant = {r.oid for r, _, _ in redundant_pairs(snapshot.index_defs)}
    overhead = {ix.oid for o in overloaded(snapshot, t) for ix in o.unused}
    for ix in snapshot.index_defs:
        if (not ix.valid or ix.idx_scan > 0 or ix.unique or ix.primary or ix.constraint
                or ix.oid in redundant or ix.relpages < t.unused_index_min_pages
                or ix.oid in overhead):
            continue
        yield Finding(
            code="unused-index",
            severity=(Severity.WARNING if ix.relpages >= t.unused_index_warning_pages
                      else Severity.INFO),
            title=f"{ix.name} on {ix.table} has never been scanned ({_size(ix, block)})",
            detail=(f"{ix.definition}: no index scan since the statistics were last reset "
                    "(check that the period covers monthly jobs and a replica's reads: "
                    "statistics are per server). It costs every write and the space it "
                    "takes."),
            objects=(ObjectRef("index", name=ix.name), ObjectRef("relation", name=ix.table)),
            evidence=UnusedIndexEvidence(relpages=ix.relpages, bytes=ix.relpages * block,
                                         idx_scan=ix.idx_scan),
            remedy=Remedy("Drop it if nothing needs it (keep its definition to re-create it).",
                          (DropIndex(ix.name),)),
            impact=float(ix.relpages),
        )
