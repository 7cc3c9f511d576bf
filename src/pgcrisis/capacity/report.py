"""What ``pgcrisis capacity`` concludes about one server: each resource's history, limit and
forecast, the plans judged against them, and what more it would need to say more.

INTERFACE (filled by the capacity work); the fleet page and ``capacity --all`` rank
recordings by :attr:`CapacityReport.first`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pgcrisis.capacity.forecast import Exhaustion, Fit


@dataclass(frozen=True, slots=True)
class Resource:
    """One resource of the server: ``key`` (``disk``, ``connections``, ``xid-freeze``,
    ``xid-wraparound``, ``sequence:<database>.<name>``, ``cpu``), in words (``label``), its
    figure now against its limit (and where the limit comes from: ``--disk-size``, a plan,
    ``max_connections``...), its daily history and when it runs out."""

    key: str
    label: str
    unit: str
    current: float | None
    limit: float | None
    limit_source: str
    exhaustion: Exhaustion
    history: tuple[tuple[date, float], ...] = ()
    fit: Fit | None = None


@dataclass(frozen=True, slots=True)
class PlanVerdict:
    """A plan of ``pgcrisis.toml`` judged: does the server fit it now, when will it outgrow it
    (the first resource to reach the plan's limit) and, in words, what the next plan buys."""

    name: str
    fits_now: bool
    outgrown: Exhaustion | None
    limiting: str
    summary: str


@dataclass(frozen=True, slots=True)
class MonthChanges:
    """Rows inserted, updated and deleted in one month (the seed's chart)."""

    month: date
    inserted: int
    updated: int
    deleted: int


@dataclass(frozen=True, slots=True)
class CapacityReport:
    """The growth report of one server or recording."""

    name: str
    generated_at: datetime
    history_days: int
    resources: tuple[Resource, ...]
    months: tuple[MonthChanges, ...] = ()
    plans: tuple[PlanVerdict, ...] = ()
    #: what it could not say and what would let it (``record`` for N more days...)
    needs: tuple[str, ...] = ()

    @property
    def first(self) -> Resource | None:
        """The resource that runs out first (a reached one first), None when none will."""
        raise NotImplementedError
