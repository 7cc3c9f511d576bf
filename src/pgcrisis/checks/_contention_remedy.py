"""What helps against contention, by kind (pure): the words, and the typed actions where SQL
exists (:mod:`pgcrisis.actions`).

Never a session to cancel or terminate: under contention every holder holds for
milliseconds, and ending one hands the lock to the next. What helps is fewer sessions
queueing at once (a pooler with a small pool, or a cap on the role's connections: an
action) and less contention per write (spread the hot rows, batch the writes, partition the
table: changes to the application or the schema, in words, since their SQL depends on it).
"""

from __future__ import annotations

from collections.abc import Sequence

from pgcrisis import shorten
from pgcrisis.actions import Action, CapConnections, SetSetting
from pgcrisis.model.contention import EXTENSION, ROW_LOCKS, Kind, lwlock_family
from pgcrisis.model.evidence import ClientShare
from pgcrisis.model.evidence_contention import WaitingStatement
from pgcrisis.model.findings import Remedy
from pgcrisis.model.snapshot import Snapshot

_FEWER = ("fewer sessions at once: a pooler in front with a small pool (PgBouncer in "
          "transaction mode), or a cap on the role's connections")

_ROW_LOCKS = (
    "Many clients update the same few rows of {table} ({statement}): each waits for the one "
    "before it to commit, so more clients only lengthen the queue. Spread the hot rows (one "
    "counter row per client or per shard, summed when read; a key that does not send every "
    "writer to the same rows), or batch the changes (queue them and apply one update per row "
    "per interval); keep each transaction short after it touches them. Meanwhile, " + _FEWER
    + ". Cancelling or terminating one of them helps nobody: the next in line takes its "
    "place.")
_EXTENSION = (
    "Many clients insert into {table} ({statement}) at once and queue to extend it by a page, "
    "one at a time. Insert in batches (multi-row INSERT or COPY: one extension for many rows), "
    "or hash-partition the table so inserts go to several ends; PostgreSQL 16 and later "
    "extend a relation by many pages at once. Meanwhile, " + _FEWER + ".")
_LWLOCK = {
    "buffer": (
        "Every session writes the same few pages ({statement} on {table}): a table's last "
        "page and the right-most leaf of an index on a sequential key under inserts, or the "
        "page of a few hot rows under updates; each page's lock is taken by one writer at a "
        "time. Batch the writes (multi-row INSERT, COPY), spread them (hash-partition the "
        "table; a key that is not sequential for the busiest index), or spread hot rows over "
        "more pages (a lower fillfactor for a table of a few hot rows). Meanwhile, " + _FEWER
        + "."),
    "wal": (
        "Many small transactions ({statement}) queue to insert into and flush the write-ahead "
        "log. Commit less often (batch many rows per transaction); more wal_buffers for bursts "
        "of WAL; where the application may lose its last transactions in a crash (never its "
        "data's consistency), synchronous_commit = off for its role. Meanwhile, " + _FEWER
        + "."),
    "lock manager": (
        "Each statement ({statement}) locks many relations (partitions, indexes) and the "
        "sessions queue on the shared lock table: prune partitions (a condition on the "
        "partition key), drop unused indexes, and run it from fewer sessions at once: "
        + _FEWER + "."),
    "other": (
        "The sessions queue on the server's {lwlock} lock ({statement}): run fewer of them at "
        "once (" + _FEWER + "); what to change depends on that lock (see the PostgreSQL "
        "documentation of wait events)."),
}


def _cap(snapshot: Snapshot, role: str | None) -> CapConnections | None:
    """A cap on the role's connections at twice the cores (a CONNECTION LIMIT does not apply
    to a superuser: none then)."""
    server = snapshot.server
    if not role or role == "?" or (role == server.current_user and server.is_superuser):
        return None
    cpus = snapshot.load.cpus.cpus if snapshot.load is not None else None
    return CapConnections(role, max(2, 2 * (cpus or 1)))


def remedy(snapshot: Snapshot, kind: Kind, relation: str | None, lwlock: str | None,
           statements: Sequence[WaitingStatement], clients: Sequence[ClientShare]) -> Remedy:
    """The remedy of a contention finding: the words for its kind, a cap on the role driving
    it, and (the WAL's locks, while commits wait for the flush) ``synchronous_commit = off``
    for that role as an option."""
    statement = (shorten.query(statements[0].query, 60) if statements and statements[0].query
                 else "the statements above")
    table = relation or "the table"
    role = next((s.role for s in statements if s.role), None) or (
        clients[0].role if clients else None)
    actions: list[Action] = []
    cap = _cap(snapshot, role)
    if cap is not None:
        actions.append(cap)
    if kind == ROW_LOCKS:
        words = _ROW_LOCKS.format(table=table, statement=statement)
    elif kind == EXTENSION:
        words = _EXTENSION.format(table=table, statement=statement)
    else:
        family = lwlock_family(lwlock)
        words = _LWLOCK[family].format(table=table, statement=statement, lwlock=lwlock)
        synchronous = snapshot.server.settings.get("synchronous_commit", "on")
        if family == "wal" and role and role != "?" and synchronous != "off":
            actions.append(SetSetting(
                "synchronous_commit", "off", "role", role,
                option=f"commits of role {role} stop waiting for the WAL flush (its last "
                       "transactions may be lost in a crash)"))
    return Remedy(words, tuple(actions))
