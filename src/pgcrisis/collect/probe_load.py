"""The ``load`` part: where the active sessions' time goes, and who puts it there.

Live, triage's window (:mod:`.load_window`), watched on a session of its own while the other
probes run: this probe joins it and builds the profile (:mod:`.load_build`), with the texts
of the statements it names (the statements probe's, read just before, else one read of
pg_stat_statements). In a recording, the recorder's :class:`~.load_frames.FrameLoad` builds
each frame's from the sample's sessions and one row of counters. Without either (``--sample
0``, a pass that takes no window) the part is unavailable, and the checks that need it say so.

Queries: live, 3 or 4 at each end of the window and one per 0.2 s (on the window's session),
plus one for texts where the statements probe lacks some; in a recording, one per sample
(counters) and 3 or 4 more at a full sample.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from pgcrisis.collect import load_window
from pgcrisis.collect.generic_plan import parse_shape
from pgcrisis.collect.load_build import (
    HIDDEN_QUERY,
    Described,
    build,
    relation_deltas,
    statement_deltas,
    with_texts,
    without,
    write_deltas,
)
from pgcrisis.collect.load_frames import cpus_of
from pgcrisis.collect.probe import ProbeContext, probe
from pgcrisis.errors import ProbeUnavailable
from pgcrisis.model.activity import Backend
from pgcrisis.model.load import WINDOW, Hidden, LoadProfile
from pgcrisis.model.parts import LOAD
from pgcrisis.model.statements import Statements
from pgcrisis.sqlparse import target_table

OFF = "no load window was taken (--sample 0)"


def texts_for(ctx: ProbeContext, queryids: list[int], *, read: bool) -> dict[int, str]:
    """The texts of ``queryids``: the statements probe's where it read them, the others
    from pg_stat_statements when ``read`` (one query), else as a session running it shows
    it in pg_stat_activity (with its constants, cut at track_activity_query_size)."""
    found: dict[int, str] = {}
    part = ctx.collected.get("statements", {}).get("statements")
    if isinstance(part, Statements):
        for q in queryids:
            st = part.by_queryid(q)
            if st is not None:
                found[q] = st.query
    missing = [q for q in queryids if q not in found]
    if missing:
        found.update(_seen_running(ctx, missing))
        missing = [q for q in missing if q not in found]
    if missing and read:
        hidden: list[Hidden] = []
        schema = load_window.pgss_schema(ctx, hidden)
        if schema is not None:
            texts = load_window.attempt(ctx, hidden, "texts", "",
                                        lambda: load_window.read_texts(ctx, schema, missing))
            found.update(texts or {})
    return found


def is_monitoring(text: str) -> bool:
    """A query that reads catalogs and statistics views only (pgcrisis's own probes, any
    monitoring tool's). Unlike the statements probe, a utility statement (COPY, CREATE INDEX,
    VACUUM, REFRESH) or a query of no table at all is load like any other."""
    shape = parse_shape(text)
    return (shape is not None and shape.is_dml and bool(shape.tables)
            and not shape.reads_user_tables)


def _seen_running(ctx: ProbeContext, queryids: list[int]) -> dict[int, str]:
    """Texts of ``queryids`` as the sessions of this pass run them (pg_stat_activity)."""
    wanted = set(queryids)
    found: dict[int, str] = {}
    for b in ctx.collected.get("activity", {}).get("activity", ()):
        if (isinstance(b, Backend) and b.query_id in wanted and b.query_id not in found
                and b.query and b.query != HIDDEN_QUERY):
            found[b.query_id] = b.query
    return found


def describe(text: str) -> Described:
    """What a statement's text says: its kind and the tables it names as written (a data
    change's target first), or None where it does not parse (a text cut short)."""
    shape = parse_shape(text)
    return None if shape is None else (shape.kind, tuple(str(t) for t in shape.tables))


@functools.lru_cache(maxsize=1024)
def written_table(text: str) -> tuple[str | None, str] | None:
    """(schema, name) of the table a statement writes or locks rows of, as its text names
    it (parsed once per text: a recording names its statements at every sample)."""
    table = target_table(text)
    return None if table is None else (table.schema, table.name)


def named(profile: LoadProfile, texts: Mapping[int, str]) -> LoadProfile:
    """``profile`` with its statements' texts, kinds and tables (the one each writes too),
    monitoring queries left out."""
    return with_texts(profile, texts, is_monitoring, describe, written_table)


def window_profile(ctx: ProbeContext) -> LoadProfile:
    """The profile of triage's window (joined here)."""
    assert ctx.window is not None
    readings = ctx.window.result(ctx)
    if not ctx.window_counted:
        ctx.queries += readings.queries
        ctx.window_counted = True
    profile = build(
        readings.samples, readings.seconds, cpus_of(ctx),
        deltas=(without(statement_deltas(*readings.statements), readings.own)
                if readings.statements is not None else None),
        statements_s=readings.seconds,
        relations=(relation_deltas(*readings.relations, floor=load_window.MIN_BLOCKS)
                   if readings.relations else ()),
        relations_s=readings.seconds if readings.relations else 0.0,
        counters=readings.counters, hidden=readings.hidden, source=WINDOW,
        writes=(write_deltas(*readings.writes, floor=load_window.MIN_ROWS)
                if readings.writes else ()))
    wanted = [s.queryid for s in profile.statements if not s.query]
    return named(profile, texts_for(ctx, wanted, read=True) if wanted else {})


@probe(LOAD)
def load(ctx: ProbeContext) -> Mapping[str, Any]:
    """The load profile: triage's window, or a recording's frame."""
    if ctx.window is not None:
        return {"load": window_profile(ctx)}
    if ctx.frames is not None:
        return {"load": ctx.frames.profile(ctx, full=ctx.full_pass)}
    raise ProbeUnavailable(OFF)
