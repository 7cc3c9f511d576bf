"""Ages measured at sampling time, stored as the moment they count from.

A session's ``xact_age_s`` grows by the interval between two samples although nothing about
the session changed; stored as is, every long-lived row would be new in every frame. So each
age is stored as its origin: ``reference - age`` (microseconds for seconds, transaction IDs
for XID ages), and rebuilt as ``reference - origin`` with the same reference. A session whose
row did not change is then byte-identical from one sample to the next.

The reference of a field in a frame is kept in the frame. It starts as the frame's server
time (seconds) or 0 (XIDs), but the probes' own ``now()`` is not the recorder's clock query's
(a few milliseconds apart, differently each time), and an XID age moves with every commit on
the server. So the writer *snaps* the reference: for each row also seen in the previous frame
(same key: pid, gid, oid, jobid, name), ``previous origin + age now`` is the reference under
which that row is unchanged; the most common such candidate wins. Any reference decodes
exactly (it is stored); the snap only decides how much is stored again.

Seconds are kept exactly: an age that is not a whole number of microseconds (the server's
resolution) is stored as the float itself, relative, and decodes to the same float.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from pgcrisis.model.activity import Backend, PreparedXact
from pgcrisis.model.health import DatabaseInfo, ReplicationSlot, TableHealth
from pgcrisis.model.jobs import JobRuns

#: how far (µs) a snapped time reference may stray from the frame's server time: the probes'
#: ``now()`` and the recorder's clock query are milliseconds apart, never a second
MAX_TIME_SNAP_US = 1_000_000


@dataclass(frozen=True, slots=True)
class Clocked:
    """Which attributes of a model type are ages, and what identifies a row across frames."""

    key: str
    seconds: tuple[str, ...] = ()
    xids: tuple[str, ...] = ()


#: the model types with ages, by class
CLOCKED: Mapping[type, Clocked] = {
    Backend: Clocked("pid", ("xact_age_s", "query_age_s", "state_age_s", "backend_age_s"),
                     ("backend_xid_age", "backend_xmin_age")),
    PreparedXact: Clocked("gid", ("age_s",)),
    TableHealth: Clocked("oid", ("vacuum_age_s", "analyze_age_s"), ("frozen_xid_age",)),
    JobRuns: Clocked("jobid", ("last_start_age_s", "first_start_age_s")),
    DatabaseInfo: Clocked("name", (), ("xid_age",)),
    ReplicationSlot: Clocked("name", (), ("xmin_age", "catalog_xmin_age")),
}


@dataclass(frozen=True, slots=True)
class Refs:
    """The references one field's ages were stored against in one frame."""

    seconds_us: int = 0
    xid: int = 0


def seconds_origin(age: float | None, ref_us: int) -> int | float | None:
    """``age`` as its origin in µs (an int), or the float itself when not whole µs."""
    if age is None:
        return None
    us = round(age * 1_000_000)
    if us / 1_000_000 == age:
        return ref_us - us
    return float(age)


def seconds_age(stored: int | float | None, ref_us: int) -> float | None:
    """The age back from :func:`seconds_origin` (exactly the float that went in).

    >>> seconds_age(seconds_origin(3.000001, 10**15), 10**15)
    3.000001
    >>> seconds_age(seconds_origin(1 / 3, 10**15), 10**15) == 1 / 3
    True
    """
    if stored is None:
        return None
    if isinstance(stored, int):
        return (ref_us - stored) / 1_000_000
    return stored


def _measured(row: Any) -> bool:
    """A row whose ages were measured (counted sessions have none)."""
    return type(row) in CLOCKED


def clocked_rows(value: Any) -> Iterator[Any]:
    """The rows with measured ages in one field value: its elements, or those of its tuple
    attributes (a frame's sessions: the rows kept, not the groups counted)."""
    if isinstance(value, tuple):
        yield from (v for v in value if _measured(v))
    elif is_dataclass(value):
        for f in fields(value):
            inner = getattr(value, f.name)
            if isinstance(inner, tuple):
                yield from (v for v in inner if _measured(v))


Origins = dict[tuple[type, Any], tuple[int | float | None, ...]]


def origins(rows: Iterable[Any], refs: Refs) -> Origins:
    """Each clocked row's stored origins under ``refs``, by (type, key): what the next frame
    snaps against."""
    out: Origins = {}
    for row in rows:
        spec = CLOCKED[type(row)]
        out[(type(row), getattr(row, spec.key))] = (
            *(seconds_origin(getattr(row, a), refs.seconds_us) for a in spec.seconds),
            *(None if getattr(row, a) is None else refs.xid - getattr(row, a)
              for a in spec.xids),
        )
    return out


def snap(rows: Iterable[Any], previous: Origins, server_time_us: int, last_xid: int) -> Refs:
    """The references under which the most rows of ``rows`` repeat ``previous`` exactly.

    >>> b = Backend(7, "db", "u", "app", None, "client backend", "idle in transaction",
    ...             5.0, 5.0, 5.0, None, None, "select 1", (), 10, 10)
    >>> before = origins([b], Refs(1_000_000_000, 500))
    >>> later = Backend(7, "db", "u", "app", None, "client backend", "idle in transaction",
    ...                 6.0, 6.0, 6.0, None, None, "select 1", (), 30, 30)
    >>> refs = snap([later], before, 1_001_003_000, 500)
    >>> refs, origins([later], refs) == before
    (Refs(seconds_us=1001000000, xid=520), True)
    """
    seconds: Counter[int] = Counter()
    xids: Counter[int] = Counter()
    for row in rows:
        spec = CLOCKED[type(row)]
        before = previous.get((type(row), getattr(row, spec.key)))
        if before is None:
            continue
        n = len(spec.seconds)
        for attr, origin in zip(spec.seconds, before[:n], strict=True):
            age = getattr(row, attr)
            if isinstance(origin, int) and age is not None:
                candidate = origin + round(age * 1_000_000)
                if abs(candidate - server_time_us) <= MAX_TIME_SNAP_US:
                    seconds[candidate] += 1
        for attr, origin in zip(spec.xids, before[n:], strict=True):
            age = getattr(row, attr)
            if isinstance(origin, int) and age is not None:
                xids[origin + age] += 1
    return Refs(_best(seconds, server_time_us), _best(xids, last_xid))


def _best(candidates: Counter[int], default: int) -> int:
    """The most common candidate (the one nearest ``default`` among equals)."""
    if not candidates:
        return default
    return max(candidates.items(), key=lambda kv: (kv[1], -abs(kv[0] - default)))[0]
