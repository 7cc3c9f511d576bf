"""Typed evidence of the contention checks (row-lock-contention, relation-extension,
lwlock-contention): a record of :mod:`pgcrisis.model.evidence`'s kind, in a module of its own."""

from __future__ import annotations

from dataclasses import dataclass

from pgcrisis.model.evidence import ClientShare, Evidence, optional


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class WaitingStatement(Evidence):
    """A statement whose sessions wait on the contention: its share of the waiting sessions,
    the table it writes, and its rates over the window (left out where not measured: an
    instant, no pg_stat_statements). ``queryid`` is None where the server does not show it
    (before PostgreSQL 14)."""

    queryid: int | None
    query: str
    table: str | None
    sessions: float
    share: float
    measured_by: str
    calls_per_s: float | None = optional()
    exec_ms_per_s: float | None = optional()
    role: str | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ContentionEvidence(Evidence):
    """row-lock-contention, relation-extension, lwlock-contention: sessions queueing on the
    same thing, the holders changing hands, and the load that makes it.

    ``measured_over`` says what the figures are: the load window (``window``), a recorded
    frame's last samples (``recording``), or, without either, one instant (``instant``:
    sessions waiting then). ``waits`` are the wait events by average sessions; ``relation``
    the contended table (from the locks awaited, else the statement's); ``holders`` the
    sessions seen holding what the others wait for at the instant, each for less than
    ``longest_hold_s`` (their transactions' age).
    """

    kind: str
    waiting_sessions: float
    active_sessions: float | None
    share: float | None
    sustained_share: float | None
    window_s: float | None
    samples: int
    measured_over: str
    waits: dict[str, float]
    relation: str | None
    lwlock: str | None = optional()
    waiting_at_instant: int
    holders: int
    longest_hold_s: float | None
    statements: tuple[WaitingStatement, ...]
    clients: tuple[ClientShare, ...]
    not_seen: tuple[str, ...]
