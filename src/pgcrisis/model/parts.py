"""The parts of a snapshot, each declared once: which Snapshot fields its probe fills, how
often the recorder reads it, and whether it describes the whole server or one database.

A *part* is what one probe reads. Everything else that needs to know is derived from
:data:`PARTS`, so a new part (or a field moved between parts) is one edit here and its probe:

- the probe registry (:func:`pgcrisis.collect.probe.probe` registers a probe against its
  :class:`Part`; the collector refuses a part without a probe, and a probe that returns
  other fields than its part's);
- the parts a check may ``need`` (:data:`PART_NAMES`);
- ``--all-databases``, which reads the :data:`SERVER_PARTS` once and lends their fields to
  the snapshots of the other databases (:data:`DATABASE_PARTS` are read in each);
- the recorder, which reads the :data:`FAST_PARTS` every sample and the :data:`SLOW_PARTS`
  every minute, and the store, which keeps the :data:`RECORDED_FIELDS`;
- reading a moment back (:func:`assemble`), the same for a store and for ``top``.

Pure, like the rest of :mod:`pgcrisis.model`: judging a recording imports this and no driver.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot


class Cadence(enum.Enum):
    """How often the recorder (and ``top``) reads a part."""

    #: what is stuck right now (sessions, locks): every sample
    EVERY_SAMPLE = "every sample"
    #: counters and catalogs that move slowly: once a minute (and when a finding appears)
    EVERY_MINUTE = "every minute"
    #: from triage's window only (``triage --sample``); never recorded
    ON_REQUEST = "on request"


class Scope(enum.Enum):
    """What a part describes: the whole server (read once by ``--all-databases``), or the
    database the session is connected to (read again in each)."""

    SERVER = "server"
    DATABASE = "database"


@dataclass(frozen=True, slots=True)
class Part:
    """One part of the snapshot: its name (what checks ``need`` and what ``unavailable`` is
    keyed by), the Snapshot fields its probe fills, its cadence and its scope."""

    name: str
    fields: tuple[str, ...]
    cadence: Cadence
    scope: Scope


_SAMPLE, _MINUTE = Cadence.EVERY_SAMPLE, Cadence.EVERY_MINUTE
_SERVER, _DATABASE = Scope.SERVER, Scope.DATABASE

#: sessions and the server's transaction counters. ``counted_sessions`` is always empty live:
#: a recording counts the sessions no check acts on instead of keeping their rows
#: (:mod:`pgcrisis.record.keep`), and a moment read back has them there
ACTIVITY = Part("activity", ("activity", "counted_sessions", "transactions"),
                _SAMPLE, _SERVER)
LOCKS = Part("locks", ("lock_counts", "lock_waits", "strong_locks"), _SAMPLE, _SERVER)
PREPARED = Part("prepared", ("prepared",), _SAMPLE, _SERVER)
STATEMENTS = Part("statements", ("statements",), _MINUTE, _DATABASE)
RELATIONS = Part("relations", ("relations",), _MINUTE, _DATABASE)
#: needs the statements and relations read before it in the same pass
INDEX_ADVICE = Part("index_advice", ("index_advice",), _MINUTE, _DATABASE)
MATVIEWS = Part("matviews", ("matviews",), _MINUTE, _DATABASE)
CRON = Part("cron", ("cron",), _MINUTE, _DATABASE)
SERVER_HEALTH = Part("server_health", ("server_health",), _MINUTE, _SERVER)
TABLE_HEALTH = Part("table_health", ("table_health",), _MINUTE, _DATABASE)
INDEX_HYGIENE = Part("index_hygiene", ("index_defs",), _MINUTE, _DATABASE)
SEQUENCES = Part("sequences", ("sequences",), _MINUTE, _DATABASE)
#: where the active sessions' time goes (:class:`~pgcrisis.model.load.LoadProfile`): live, over
#: triage's window on a session of its own, overlapped with the other probes; in a recording,
#: each frame's over the last samples (read after the statements and relations, whose
#: counters a full sample differences)
LOAD = Part("load", ("load",), _SAMPLE, _SERVER)
#: call rates per client over triage's window (runaway-client), from the same readings
SAMPLE = Part("sample", ("sample",), Cadence.ON_REQUEST, _SERVER)
#: the generic plans of the statements that carry the load (bad-plan): after the load, whose
#: window says which statements carry it, and the statements and relations it plans with
PLANS = Part("plans", ("plans",), _MINUTE, _DATABASE)

#: every part, in the order the probes run (a probe that reads another's result comes after it)
PARTS: tuple[Part, ...] = (
    ACTIVITY, LOCKS, PREPARED, STATEMENTS, RELATIONS, INDEX_ADVICE, MATVIEWS, CRON,
    SERVER_HEALTH, TABLE_HEALTH, INDEX_HYGIENE, SEQUENCES, LOAD, SAMPLE, PLANS,
)

#: the names a check's ``needs`` may use, and the parts by name
PART_NAMES = frozenset(p.name for p in PARTS)
BY_NAME = {p.name: p for p in PARTS}
#: parts describing the whole server (read once), and those read in each database
SERVER_PARTS = tuple(p for p in PARTS if p.scope is Scope.SERVER)
DATABASE_PARTS = tuple(p for p in PARTS if p.scope is Scope.DATABASE)
#: read every sample, and every minute
FAST_PARTS = tuple(p for p in PARTS if p.cadence is Cadence.EVERY_SAMPLE)
SLOW_PARTS = tuple(p for p in PARTS if p.cadence is Cadence.EVERY_MINUTE)
#: what a recording reads (a full sample: all of them), and the fields it keeps, in order
RECORDED_PARTS = FAST_PARTS + SLOW_PARTS
RECORDED_FIELDS = tuple(f for p in RECORDED_PARTS for f in p.fields)


def names(parts: Iterable[Part]) -> frozenset[str]:
    """The names of ``parts``.

    >>> sorted(names(FAST_PARTS))
    ['activity', 'load', 'locks', 'prepared']
    """
    return frozenset(p.name for p in parts)


def fields_of(snapshot: Snapshot, parts: Iterable[Part]) -> dict[str, Any]:
    """The values of the fields of ``parts`` in ``snapshot``, by name."""
    return {name: getattr(snapshot, name) for p in parts for name in p.fields}


def assemble(server: ServerInfo, at: datetime, fields: Mapping[str, Any], *,
             read: Collection[Part], unavailable: Mapping[str, str],
             before: Mapping[str, str]) -> Snapshot:
    """The snapshot of one moment of a recording, whose parts were read at different times:
    the one function that puts a moment back together, for a store and for ``top`` alike.

    ``fields`` holds each field's latest value (Snapshot field names; a field never read keeps
    its default). ``read`` are the parts read at this moment, ``unavailable`` why any of them
    could not be; ``before`` says why a part could not be read when it was last read. A part's
    reason comes from the latest reading of it: a fast sample says nothing of the parts read
    every minute.

    >>> from datetime import UTC
    >>> server = ServerInfo(160004, "16.4", "app", "me", True, 1, {}, {}, frozenset())
    >>> s = assemble(server, datetime(2026, 1, 1, tzinfo=UTC), {"prepared": ()},
    ...              read=FAST_PARTS, unavailable={"locks": "timeout"},
    ...              before={"locks": "old", "cron": "no pg_cron"})
    >>> s.unavailable
    {'cron': 'no pg_cron', 'locks': 'timeout'}
    """
    now = names(read)
    reasons = {part: why for part, why in before.items() if part not in now}
    reasons.update((part, why) for part, why in unavailable.items() if part in now)
    return Snapshot(server=server, taken_at=at, server_time=at, unavailable=reasons, **fields)
