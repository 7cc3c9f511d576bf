"""A recording's load profile: each frame's, over the last :data:`FRAME_SAMPLES` samples.

The recorder (and ``top``) samples every second; re-reading pg_stat_statements every second
would cost the server more than the profile is worth. So a frame's profile is made of what
the recorder reads anyway, plus one cheap query:

- the sessions of this sample and of the few before it (the ``activity`` part, read every
  sample: waits, clients, statements by ``query_id``), averaged, so that one busy instant is
  not called a saturation;
- the server-wide counters (:file:`load_counters.sql`, one row), read every
  :data:`COUNTERS_EVERY` samples (and at full ones): each frame carries the last two
  readings, whose difference gives its rates (a restart or a reset in between leaves them
  out: :class:`~pgcrisis.model.load_rates.ServerRates`). Frames between two readings refer
  to the same ones, so the store keeps a reading once, not a row of counters every second;
- at every full sample (once a minute, and when a finding appears), pg_stat_statements,
  pg_statio_user_tables and pg_stat_user_tables, differenced with the previous full sample:
  the statements, roles, tables read and tables written of that minute, carried by every
  frame until the next.

Each frame's profile also carries its samples' sessions, counted (``frame_samples``): a store
keeps those and the minute's figures, not the averages, and averages again when the frame is
read (:mod:`.load_samples`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from pgcrisis.collect import load_window
from pgcrisis.collect.cpus import local
from pgcrisis.collect.load_build import (
    HIDDEN_QUERY,
    RelationTotals,
    Seen,
    StatementTotals,
    Totals,
    WriteTotals,
    build,
    not_own,
    relation_deltas,
    statement_deltas,
    write_deltas,
)
from pgcrisis.collect.load_samples import groups_of
from pgcrisis.collect.probe import ProbeContext
from pgcrisis.model.activity import Backend
from pgcrisis.model.health import LOCAL
from pgcrisis.model.load import RECORDED, CpuCount, Hidden, LoadProfile
from pgcrisis.model.load_rates import ServerCounters
from pgcrisis.model.load_samples import SampleGroups
from pgcrisis.model.load_tables import RelationReads, RelationWrites

#: samples a frame's profile averages over (5 s at the recorder's 1 s interval)
FRAME_SAMPLES = 5
#: samples between two readings of the server-wide counters
COUNTERS_EVERY = 5
#: clients and roles a frame keeps (a triage window keeps more)
FRAME_TOP = 5


def seen(b: Backend) -> Seen:
    """A session row as a load sample sees it."""
    return Seen(b.pid, b.backend_type, b.application_name, b.client_addr or LOCAL,
                b.usename or "?", b.state, b.wait_event_type, b.wait_event, b.query_id,
                hidden=b.query == HIDDEN_QUERY)


def cpus_of(ctx: ProbeContext) -> CpuCount:
    """The server's CPUs as the options give them, else as this machine shows them."""
    if ctx.options.cpus is not None:
        return CpuCount.given(ctx.options.cpus, ctx.options.cpus_from)
    rows = ctx.dicts("own_backend")
    return local(ctx.conn, ctx.server.own_pid, rows[0]["backend_start"] if rows else None)


@dataclass
class _Minute:
    """The statements and tables of the last span between two full samples."""

    at: float
    statements: StatementTotals | None
    relations: RelationTotals | None
    writes: WriteTotals | None = None
    deltas: dict[tuple[str, int], Totals] | None = None
    statements_s: float = 0.0
    changed: list[RelationReads] | None = None
    relations_s: float = 0.0
    written: list[RelationWrites] | None = None


class FrameLoad:
    """Builds each frame's profile from the passes the recorder makes (one per sample)."""

    def __init__(self, samples: int = FRAME_SAMPLES, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self._samples: deque[list[Seen]] = deque(maxlen=samples)
        #: the same samples counted, as a store keeps them (:mod:`.load_samples`)
        self._groups: deque[SampleGroups] = deque(maxlen=samples)
        self._times: deque[float] = deque(maxlen=samples)
        self._clock = clock
        self._counters: deque[ServerCounters] = deque(maxlen=2)
        self._since_counters = COUNTERS_EVERY  # read at the first pass
        self._cpus: tuple[int, CpuCount] | None = None
        self._minute: _Minute | None = None
        self._texts: dict[int, str] = {}

    def _cpus_of(self, ctx: ProbeContext) -> CpuCount:
        if self._cpus is None or self._cpus[0] != ctx.server.own_pid:
            self._cpus = (ctx.server.own_pid, cpus_of(ctx))  # again after a reconnection
        return self._cpus[1]

    def _read_counters(self, ctx: ProbeContext, hidden: list[Hidden]) -> None:
        counters = load_window.attempt(ctx, hidden, "server counters", "grant pg_monitor",
                                       lambda: load_window.read_counters(ctx))
        if counters is None:
            return
        self._since_counters = 0
        if self._counters and counters.started_at != self._counters[-1].started_at:
            self._counters.clear()  # a restart: nothing before it compares
        self._counters.append(counters)

    def _read_minute(self, ctx: ProbeContext, hidden: list[Hidden], at: float) -> None:
        """pg_stat_statements and the tables now, differenced with the last full sample's."""
        schema = load_window.pgss_schema(ctx, hidden)
        statements = None if schema is None else load_window.attempt(
            ctx, hidden, load_window.STATEMENTS, "grant pg_read_all_stats",
            lambda: load_window.read_statements(ctx, schema))
        relations = load_window.attempt(ctx, hidden, "tables", "grant pg_read_all_stats",
                                        lambda: load_window.read_relations(ctx))
        writes = load_window.attempt(ctx, hidden, "tables", "grant pg_read_all_stats",
                                     lambda: load_window.read_writes(ctx))
        now = _Minute(at, statements, relations, writes)
        last = self._minute
        if last is not None and at > last.at:
            if statements is not None and last.statements is not None:
                now.deltas = statement_deltas(last.statements, statements)
                now.statements_s = at - last.at
            if relations is not None and last.relations is not None:
                now.changed = relation_deltas(last.relations, relations,
                                              floor=load_window.MIN_BLOCKS)
                now.relations_s = at - last.at
            if writes is not None and last.writes is not None:
                now.written = write_deltas(last.writes, writes, floor=load_window.MIN_ROWS)
        self._minute = now

    def profile(self, ctx: ProbeContext, *, full: bool) -> LoadProfile:
        """This pass's frame profile (``full``: the pass read the slow parts too, so
        pg_stat_statements and the tables are read and differenced now)."""
        hidden = load_window.static_hidden(ctx.server)
        self._since_counters += 1
        if full or self._since_counters >= COUNTERS_EVERY:
            self._read_counters(ctx, hidden)
        activity = ctx.collected.get("activity", {}).get("activity", ())
        self._samples.append([s for s in not_own([seen(b) for b in activity])
                              if s.state == "active" or s.hidden])
        self._groups.append(groups_of(self._samples[-1]))
        self._times.append(self._clock())
        if full:
            self._read_minute(ctx, hidden, self._counters[-1].at if self._counters else 0.0)
        minute = self._minute
        n = len(self._times)
        # the time n samples stand for: n spacings between them, measured here
        span = (self._times[-1] - self._times[0]) * n / (n - 1) if n > 1 else 0.0
        profile = build(
            list(self._samples), span, self._cpus_of(ctx), top=FRAME_TOP,
            deltas=minute.deltas if minute else None,
            statements_s=minute.statements_s if minute else 0.0,
            relations=minute.changed or () if minute else (),
            relations_s=minute.relations_s if minute else 0.0,
            counters=tuple(self._counters) if len(self._counters) > 1 else (),
            hidden=list({(h.what, h.reason): h for h in hidden}.values()), source=RECORDED,
            writes=minute.written or () if minute else ())
        profile = replace(profile, frame_samples=tuple(self._groups))
        return self._named(ctx, profile, full)

    def _named(self, ctx: ProbeContext, profile: LoadProfile, full: bool) -> LoadProfile:
        """Texts for the profile's statements: the statements part's, else read at a full
        pass and kept (a fast pass reads no text)."""
        from pgcrisis.collect.probe_load import named, texts_for

        wanted = [s.queryid for s in profile.statements
                  if not s.query and s.queryid not in self._texts]
        if wanted:
            self._texts.update(texts_for(ctx, wanted, read=full))
        return named(profile, self._texts)
