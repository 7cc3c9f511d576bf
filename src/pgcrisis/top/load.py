"""What ``top`` shows of the load: where the active sessions' time goes now (by wait class,
against the server's CPUs), and the same for the samples of the last minute.

From each snapshot's load profile (:class:`~pgcrisis.model.load.LoadProfile`: live, the
profile the sampler builds over its last few samples; replayed, the one the recording stored
with the frame), so ``top``, ``triage --at`` and the dashboard's chart say the same. Pure: the
sources keep the history (:func:`kept`), renderers lay it out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pgcrisis.model.snapshot import Snapshot
from pgcrisis.model.waits import CPU, SHOWN_CLASSES

#: how far back the history goes
HISTORY = timedelta(seconds=60)
#: how to give the CPU count where it is not known (the profile's reason says why)
GIVE_CPUS = "give --cpus N, or [server] cpus = N in pgcrisis.toml"


@dataclass(frozen=True, slots=True)
class LoadPoint:
    """One sample's load: when, its average active sessions per class of
    :data:`~pgcrisis.model.waits.SHOWN_CLASSES` (in their order), the CPU count."""

    at: datetime
    sessions: tuple[float, ...]
    cpus: int | None

    @property
    def total(self) -> float:
        return sum(self.sessions)


@dataclass(frozen=True, slots=True)
class LoadView:
    """The load pane: the current profile (``seconds`` over ``samples`` readings), its
    average active sessions per shown class, the CPU count (``None``: not known, and
    ``cpus_how`` says why and how to give it) and the last minute's points, oldest first,
    the current one last."""

    seconds: float
    samples: int
    classes: tuple[tuple[str, float], ...]
    cpus: int | None
    cpus_how: str
    history: tuple[LoadPoint, ...] = ()

    @property
    def active(self) -> float:
        return sum(n for _, n in self.classes)

    @property
    def on_cpu(self) -> float:
        return dict(self.classes).get(CPU, 0.0)

    @property
    def cpu_ratio(self) -> float | None:
        """Sessions on CPU per core (``None`` when the count is not known)."""
        return self.on_cpu / self.cpus if self.cpus else None


def point(snapshot: Snapshot) -> LoadPoint | None:
    """The load of one sample (``None``: it has no profile)."""
    profile = snapshot.load
    if profile is None or not profile.samples:
        return None
    return LoadPoint(snapshot.server_time or snapshot.taken_at, profile.shown(),
                     profile.cpus.cpus)


def kept(history: Iterable[LoadPoint], latest: LoadPoint | None,
         span: timedelta = HISTORY) -> tuple[LoadPoint, ...]:
    """``history`` with ``latest`` added (at its time: a point there already is replaced),
    oldest first, and what is older than ``span`` before it left out."""
    points = {p.at: p for p in history}
    if latest is not None:
        points[latest.at] = latest
    if not points:
        return ()
    end = max(points) if latest is None else latest.at
    return tuple(points[t] for t in sorted(points) if end - span <= t <= end)


def load_view(snapshot: Snapshot, history: Iterable[LoadPoint] = ()) -> LoadView | None:
    """The load pane of ``snapshot`` (``None``: no profile was taken) with the points of
    ``history`` up to it."""
    profile = snapshot.load
    if profile is None:
        return None
    current = point(snapshot)
    how = profile.cpus.how if profile.cpus.known else (
        profile.cpus.how if "--cpus" in profile.cpus.how else f"{profile.cpus.how}: {GIVE_CPUS}")
    return LoadView(profile.seconds, profile.samples,
                    tuple(zip(SHOWN_CLASSES, profile.shown(), strict=True)),
                    profile.cpus.cpus, how, kept(history, current))
