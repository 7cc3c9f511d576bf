"""A recorded frame's load profile as a store keeps it: what changes every frame, apart from
what changes once a minute.

The profile averages the frame's last few samples, so no two frames' averages are alike; it
is kept as two stored fields instead, each written only when it changes like any other:

- ``load``, a :class:`LoadFrame`: the samples' own sessions, counted (each sample's groups
  are element rows, stored once and referred to by the frames whose window holds them), the
  span they cover, the last two readings of the server counters (a reading every few samples)
  and the order in which this frame lists its statements, clients and roles;
- ``load_base``: the profile less all of that (:func:`~pgcrisis.collect.load_samples.
  emptied`), its statements, clients and roles in a fixed order (by queryid, by client, by
  name): the minute's counters, texts and what was hidden, the same from frame to frame until
  the next full sample or until another client or statement enters the frame's top ones.

:func:`joined` puts the two together and averages again
(:func:`~pgcrisis.collect.load_samples.averaged`): the profile the recorder judged, exactly.
A profile not made of samples (written by hand, or by a pgcrisis before store schema 4) is
stored whole in ``load``, and read as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from pgcrisis.collect.load_samples import averaged, emptied
from pgcrisis.errors import StoreError
from pgcrisis.model.load import ClientLoad, LoadProfile
from pgcrisis.model.load_rates import ServerCounters
from pgcrisis.model.load_samples import SampleGroups

#: the stored field of a frame's load (the Snapshot's) and of what it shares with others
LOAD_FIELD, BASE_FIELD = "load", "load_base"

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class LoadFrame:
    """What of a frame's load profile changes every frame (see the module's docstring):
    ``order`` holds, for the statements, clients and roles in turn, the position in the base
    of each one the frame lists, in the frame's order."""

    samples: tuple[SampleGroups, ...]
    seconds: float
    counters: tuple[ServerCounters, ...]
    order: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


def _client_key(c: ClientLoad) -> tuple[str, bool, str, str]:
    return (c.application, c.address is None, c.address or "", c.role)


def _placed(items: Sequence[_T], fixed: list[_T]) -> tuple[int, ...]:
    """Where each of ``items`` is in ``fixed`` (its elements are distinct)."""
    return tuple(fixed.index(x) for x in items)


def split(profile: LoadProfile) -> tuple[LoadFrame, LoadProfile]:
    """A profile made of samples as its :class:`LoadFrame` and its base."""
    base = emptied(profile)
    statements = sorted(base.statements, key=lambda s: s.queryid)
    clients = sorted(base.clients, key=_client_key)
    roles = sorted(base.roles, key=lambda r: r.role)
    frame = LoadFrame(profile.frame_samples, profile.seconds, profile.counters, (
        _placed(base.statements, statements), _placed(base.clients, clients),
        _placed(base.roles, roles)))
    return frame, replace(base, seconds=0.0, samples=0, counters=(),
                          statements=tuple(statements), clients=tuple(clients),
                          roles=tuple(roles))


def joined(frame: LoadFrame, base: LoadProfile | None) -> LoadProfile:
    """The profile of a frame again, from its :class:`LoadFrame` and the base at its time."""
    if base is None:
        raise StoreError("a recorded frame's load has no base (a damaged store)")
    statements, clients, roles = frame.order
    return averaged(replace(
        base, seconds=frame.seconds, counters=frame.counters,
        statements=tuple(base.statements[i] for i in statements),
        clients=tuple(base.clients[i] for i in clients),
        roles=tuple(base.roles[i] for i in roles)), frame.samples)
