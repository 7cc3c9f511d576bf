"""Cause and consequence between findings: which finding explains which (pure).

Checks judge one thing each; a DBA reads them as a story. The idle transaction that is the
root blocker of a lock chain is also why vacuum cannot clean a table: three findings, one
cause. :func:`link` finds, for each finding, the findings that cause it, by rules that name a
consequence code, the objects of it that point at a cause, and the codes a cause may have
(in order of preference). A cause must name the same object (the same backend pid, prepared
transaction, slot, client or queryid).

:func:`tree` turns the links into the order reports print: each root, then its
consequences beneath it, roots ranked by the worst finding of their tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pgcrisis.model.findings import Finding, ObjectRef


@dataclass(frozen=True, slots=True)
class Rule:
    """``consequence`` findings' objects of ``kinds`` (only the first if ``first_only``) are
    caused by a finding of one of ``causes`` (preferred first) naming the same object."""

    consequence: str
    kinds: frozenset[str]
    causes: tuple[str, ...]
    first_only: bool = False


#: the contention codes (checks/contention.py), heaviest lock first
CONTENTION = ("row-lock-contention", "relation-extension", "lwlock-contention")

RULES = (
    Rule("blocking-lock", frozenset({"backend", "prepared-xact"}),
         ("idle-in-transaction", "long-running-query", "lock-hoarder", "long-transaction"),
         first_only=True),
    Rule("long-transaction", frozenset({"backend"}),
         ("idle-in-transaction", "long-running-query"), first_only=True),
    Rule("table-bloat", frozenset({"backend", "prepared-xact", "slot"}), ("long-transaction",)),
    Rule("slow-query", frozenset({"query"}), ("missing-index", "bad-plan", "jit-overhead")),
    # a plan shape of a statement missing-index names: the index it lacks, first; else the
    # statistics its tables lack (a plan made blind)
    Rule("bad-plan", frozenset({"query"}), ("missing-index", "missing-statistics")),
    Rule("connection-saturation", frozenset({"client"}), ("runaway-client",)),
    # a client whose time is one statement's: the plan that makes that statement costly
    Rule("runaway-client", frozenset({"query"}), ("bad-plan",)),
    # the statement that saturates the CPUs or the disks, when a check knows why it is costly:
    # missing-statistics names the statements that read its tables (planned blind); bad-plan
    # the plan shape that costs it
    Rule("cpu-saturation", frozenset({"query"}),
         ("jit-overhead", "missing-index", "missing-statistics", "bad-plan", "index-overhead",
          "large-result", "write-storm"), first_only=True),
    Rule("io-saturation", frozenset({"query"}),
         ("missing-index", "bad-plan", "large-result", "write-storm"), first_only=True),
    # the writes of a storm made costly by a table's indexes nothing reads
    Rule("write-storm", frozenset({"query"}), ("index-overhead",), first_only=True),
    # a client whose call rate is the storm's writes (or its large results): many sessions of
    # one application doing their work, which the saturation names with its remedy
    Rule("runaway-client", frozenset({"client"}),
         ("write-storm", "index-overhead", "large-result")),
    # the sessions of a statement queueing on a hot page or the WAL as they queue for its rows
    # or its table's extension: one contended thing, named by the heavier lock
    Rule("lwlock-contention", frozenset({"relation", "query"}),
         ("row-lock-contention", "relation-extension")),
    # a table's extension and its pages queued for by the writers of a storm: too many at
    # once is the cause, the contention what it makes
    Rule("relation-extension", frozenset({"query"}), ("write-storm",)),
    # ... and the WAL's locks queued for at COMMIT by the storm's clients (the COMMIT is the
    # statement that waits, the storm names the writes: the client is what they share)
    Rule("lwlock-contention", frozenset({"query", "client"}), ("write-storm",)),
    # rows queued for behind a culprit (a session idle in its transaction after updating one
    # of them): those waits are its chain's, the churn on the other rows comes after it
    Rule("row-lock-contention", frozenset({"relation"}), ("blocking-lock",)),
    # a client whose calls queue on a contended table: its execution time is mostly waiting
    Rule("runaway-client", frozenset({"client"}), CONTENTION, first_only=True),
    # a window's stall on a table: the blocking chain's root, or the contention, on it
    Rule("stall", frozenset({"relation"}), ("blocking-lock", *CONTENTION)),
)


def _key(o: ObjectRef) -> tuple[str, object]:
    if o.kind == "backend":
        return (o.kind, o.pid)
    if o.kind == "query":
        return (o.kind, o.id)
    return (o.kind, o.name)


def _database(f: Finding) -> str | None:
    return next((o.name for o in f.objects if o.kind == "database"), None)


def link(findings: Sequence[Finding]) -> tuple[tuple[int, ...], ...]:
    """For each finding, the indexes of the findings that cause it (possibly none)."""
    about: dict[tuple[str, object], list[int]] = {}
    for i, f in enumerate(findings):
        for o in f.objects:
            about.setdefault(_key(o), []).append(i)
    causes: list[list[int]] = [[] for _ in findings]
    for i, f in enumerate(findings):
        for rule in RULES:
            if rule.consequence != f.code:
                continue
            blamed = f.objects[:1] if rule.first_only else f.objects
            for o in blamed:
                if o.kind not in rule.kinds:
                    continue
                candidates = [j for j in about.get(_key(o), ()) if j != i
                              and findings[j].code in rule.causes
                              and _database(findings[j]) in (None, _database(f))]
                if not candidates:
                    continue
                best = min(candidates, key=lambda j: rule.causes.index(findings[j].code))
                if best not in causes[i] and not _reaches(causes, best, i):
                    causes[i].append(best)
    return tuple(tuple(c) for c in causes)


def _reaches(causes: list[list[int]], start: int, target: int) -> bool:
    """Whether ``target`` is among the causes of ``start``, transitively (no cycles)."""
    todo, seen = [start], set()
    while todo:
        n = todo.pop()
        if n == target:
            return True
        if n in seen:
            continue
        seen.add(n)
        todo.extend(causes[n])
    return False


def tree(findings: Sequence[Finding], caused_by: Sequence[Sequence[int]]
         ) -> list[tuple[int, int]]:
    """``(index, depth)`` in print order: each root (depth 0) followed by its consequences.

    A consequence is printed under its first cause. Findings arrive ranked; a tree is placed
    where its best-ranked member would be, and children keep their rank order.
    """
    children: dict[int, list[int]] = {}
    roots: list[int] = []
    for i, causes in enumerate(caused_by):
        if causes:
            children.setdefault(causes[0], []).append(i)
        else:
            roots.append(i)

    def members(i: int) -> list[int]:
        out = [i]
        for c in children.get(i, ()):
            out.extend(members(c))
        return out

    order: list[tuple[int, int]] = []

    def walk(i: int, depth: int) -> None:
        order.append((i, depth))
        for c in children.get(i, ()):
            walk(c, depth + 1)

    for root in sorted(roots, key=lambda r: min(members(r))):
        walk(root, 0)
    return order
