"""A recorded frame's load profile as a store keeps it: what changes every frame, apart from
what changes once a minute.

The profile averages the frame's last few samples, so no two frames' averages are alike; it
is kept as two stored fields instead, each written only when it changes like any other:

- ``load``, a :class:`LoadFrame`: the samples' own sessions, counted (each sample's groups
  are element rows, stored once and referred to by the frames whose window holds them), the
  span they cover, the last two readings of the server counters (a reading every few
  samples), and the statements, clients and roles the frame lists, less their averages:
  element rows too, alike from frame to frame until the next full sample, so each is stored
  once and a frame refers to them in its order;
- ``load_base``: the rest (:func:`~pgcrisis.collect.load_samples.emptied`): the CPUs, the
  tables read and written over the minute, what was hidden: the same until the next full
  sample.

:func:`joined` puts the two together and averages again
(:func:`~pgcrisis.collect.load_samples.averaged`): the profile the recorder judged, exactly.
A profile not made of samples (written by hand, or by a pgcrisis before store schema 4) is
stored whole in ``load``, and read as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from pgcrisis.collect.load_samples import averaged, emptied
from pgcrisis.errors import StoreError
from pgcrisis.model.load import ClientLoad, LoadProfile, RoleLoad, StatementLoad
from pgcrisis.model.load_rates import ServerCounters
from pgcrisis.model.load_samples import SampleGroups

#: the stored field of a frame's load (the Snapshot's) and of what it shares with others
LOAD_FIELD, BASE_FIELD = "load", "load_base"


@dataclass(frozen=True, slots=True)
class LoadFrame:
    """What of a frame's load profile changes every frame (see the module's docstring)."""

    samples: tuple[SampleGroups, ...]
    seconds: float
    counters: tuple[ServerCounters, ...]
    statements: tuple[StatementLoad, ...]
    clients: tuple[ClientLoad, ...]
    roles: tuple[RoleLoad, ...]

    #: the types of :meth:`rows`, in order (stored as element rows, each once)
    ROW_TYPES: ClassVar[tuple[type, ...]] = (ServerCounters, StatementLoad, ClientLoad, RoleLoad)

    def rows(self) -> tuple[tuple[Any, ...], ...]:
        """The counters, statements, clients and roles, in the order of :data:`ROW_TYPES`."""
        return (self.counters, self.statements, self.clients, self.roles)


def split(profile: LoadProfile) -> tuple[LoadFrame, LoadProfile]:
    """A profile made of samples as its :class:`LoadFrame` and its base."""
    base = emptied(profile)
    frame = LoadFrame(profile.frame_samples, profile.seconds, profile.counters,
                      base.statements, base.clients, base.roles)
    return frame, replace(base, seconds=0.0, samples=0, counters=(), statements=(),
                          clients=(), roles=())


def joined(frame: LoadFrame, base: LoadProfile | None) -> LoadProfile:
    """The profile of a frame again, from its :class:`LoadFrame` and the base at its time."""
    if base is None:
        raise StoreError("a recorded frame's load has no base (a damaged store)")
    return averaged(replace(base, seconds=frame.seconds, counters=frame.counters,
                            statements=frame.statements, clients=frame.clients,
                            roles=frame.roles), frame.samples)
