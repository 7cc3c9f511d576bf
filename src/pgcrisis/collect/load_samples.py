"""A recorded frame's load profile taken apart for the store, and put together again.

A frame's profile averages its last few samples (:mod:`.load_frames`); a store that kept the
averages would keep nothing twice, since the window slides by a sample each frame. So a
store keeps two things instead (pure functions, used by ``store/_load.py``):

- each sample's own sessions, counted (:func:`groups_of`): a :class:`~pgcrisis.model.
  load_samples.SeenGroup` of a busy server recurs from sample to sample, and is stored once;
- the profile less every figure those sessions give (:func:`emptied`): the statements,
  clients and roles the frame lists with their counters of the minute (the same for every
  frame until the next full sample, so stored once too), the span, the CPUs, the server
  counters, what was hidden.

:func:`averaged` fills the figures in again from the samples, through the very functions
:func:`~.load_build.build` made them with (:func:`~.load_build.tally` and the
``*_sessions`` helpers): the profile read back equals the one the recorder judged, to the
last bit. The samples are expanded in the order their first session was seen, which is the
order in which each client and statement first appeared, so even ties are listed alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from pgcrisis.collect.load_build import (
    Seen,
    client_sessions,
    role_sessions,
    statement_sessions,
    tally,
    waits_of,
)
from pgcrisis.model.load import LoadProfile
from pgcrisis.model.load_samples import SampleGroups, SeenGroup


def groups_of(sample: Sequence[Seen]) -> SampleGroups:
    """One sample's sessions counted by what a profile tells apart (a parallel worker as its
    leader's client and statement, as :func:`~.load_build.tally` counts it), in the order
    each group's first session was seen."""
    by_pid = {s.pid: s for s in sample}
    counts: dict[tuple[str | None, str | None, str | None, str, str, str, int | None, bool],
                 int] = {}
    for s in sample:
        who = by_pid.get(s.leader_pid or -1, s)
        key = (s.state, s.wait_event_type, s.wait_event, who.application, who.address,
               who.role, s.query_id if s.query_id is not None else who.query_id, s.hidden)
        counts[key] = counts.get(key, 0) + 1
    return tuple(SeenGroup(*key, sessions=n) for key, n in counts.items())


def _expanded(groups: Iterable[SeenGroup]) -> list[Seen]:
    """A sample's sessions again, one per session counted (pids made up: no leaders)."""
    out: list[Seen] = []
    for g in groups:
        for _ in range(g.sessions):
            out.append(Seen(len(out) + 1, "", g.application, g.address, g.role, g.state,
                            g.wait_event_type, g.wait_event, g.query_id, hidden=g.hidden))
    return out


def emptied(profile: LoadProfile) -> LoadProfile:
    """``profile`` less what its samples give: no waits nor ticks, its statements, clients
    and roles with the figures of no session, and no samples."""
    return replace(
        profile, waits=(), ticks=(), frame_samples=(),
        statements=tuple(replace(s, **statement_sessions(Counter(), Counter(), 1))
                         for s in profile.statements),
        clients=tuple(replace(c, **client_sessions(Counter(), Counter(), 1))
                      for c in profile.clients),
        roles=tuple(replace(r, **role_sessions(Counter(), 1)) for r in profile.roles))


def averaged(base: LoadProfile, samples: Sequence[SampleGroups]) -> LoadProfile:
    """The frame's profile: ``base`` (:func:`emptied`) with the averages of ``samples``."""
    t = tally(_expanded(groups) for groups in samples)
    n = max(t.samples, 1)
    return replace(
        base, samples=t.samples, waits=waits_of(t, n), ticks=tuple(t.ticks),
        statements=tuple(replace(s, **statement_sessions(
            t.queries[s.queryid], t.query_clients[s.queryid], n)) for s in base.statements),
        clients=tuple(replace(c, **client_sessions(
            t.clients[(c.application, c.address, c.role)],
            t.client_queries[(c.application, c.address, c.role)], n)) for c in base.clients),
        roles=tuple(replace(r, **role_sessions(t.roles[r.role], n)) for r in base.roles),
        frame_samples=tuple(samples))
