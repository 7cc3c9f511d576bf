"""The probe registry and the context probes run in.

A probe reads one *part* of the snapshot (a :class:`~pgcrisis.model.parts.Part`, declared
once in :mod:`pgcrisis.model.parts` with its fields, cadence and scope) and returns exactly
that part's fields. It raises :class:`~pgcrisis.errors.ProbeUnavailable` when it cannot run
here (missing extension, missing privilege); the collector records the reason so that the
checks needing that part become ``skipped`` entries. Each part has exactly one probe:
:func:`probe` refuses a second, :func:`missing_probes` names a part without one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg import errors as pgerrors
from psycopg.rows import RowFactory, class_row, dict_row

from pgcrisis.collect import sql
from pgcrisis.errors import first_line
from pgcrisis.model.parts import PARTS, Part
from pgcrisis.model.server import ServerInfo

if TYPE_CHECKING:
    from pgcrisis.collect.load_frames import FrameLoad
    from pgcrisis.collect.load_window import Window

T = TypeVar("T")
Params = Sequence[Any] | Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class ProbeOptions:
    """Switches that change what probes do (not how checks judge)."""

    verify_index_advice: bool = True
    max_statements: int = 200
    #: the server's CPU count as a person gave it (``--cpus``, ``[server] cpus``), and where;
    #: None: this machine's when the server is on it, else unknown
    cpus: int | None = None
    cpus_from: str = "--cpus"


@dataclass
class ProbeContext:
    """The connection, what is known so far, and a query counter (for the benchmark)."""

    conn: psycopg.Connection[Any]
    server: ServerInfo
    options: ProbeOptions = field(default_factory=ProbeOptions)
    collected: dict[str, Any] = field(default_factory=dict)
    queries: int = 0
    #: seconds the ``sample`` part watches the server for (0: not asked for)
    sample_s: float = 0.0
    #: triage's load window, watched on a session of its own (the ``load`` and ``sample``
    #: parts join it); its queries are counted once, when first joined
    window: Window | None = None
    window_counted: bool = False
    #: a recording's frame profiles (the ``load`` part without a window), and whether this
    #: pass reads the slow parts too (pg_stat_statements is then differenced)
    frames: FrameLoad | None = None
    full_pass: bool = True

    def rows(self, name: str, cls: type[T], params: Params = None) -> list[T]:
        """Run the named SQL file and load each row into ``cls`` (a frozen dataclass)."""
        return self._fetch(sql.query(name, self.server.version_num), class_row(cls), params)

    def dicts(self, name: str, params: Params = None) -> list[dict[str, Any]]:
        """Run the named SQL file and return rows as dicts (for probes that reshape rows)."""
        return self._fetch(sql.query(name, self.server.version_num), dict_row, params)

    def composed_rows(self, name: str, cls: type[T],
                      **identifiers: psycopg.sql.Composable) -> list[T]:
        """Run the named SQL file with its fragments filled in (:func:`~pgcrisis.collect.
        sql.composed`) and load each row into ``cls``."""
        return self._fetch(sql.composed(name, self.server.version_num, **identifiers),
                           class_row(cls), None)

    def composed_dicts(self, name: str, params: Params = None,
                       **identifiers: psycopg.sql.Composable) -> list[dict[str, Any]]:
        """Run the named SQL file with its fragments filled in; rows as dicts."""
        return self._fetch(sql.composed(name, self.server.version_num, **identifiers),
                           dict_row, params)

    def run(self, text: str | psycopg.sql.Composable,
            params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run an ad-hoc statement (for statements built with ``psycopg.sql``)."""
        self.queries += 1
        with self.conn.cursor() as cur:
            cur.execute(text, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    def _fetch(self, text: str | psycopg.sql.Composed, factory: RowFactory[T],
               params: Any) -> list[T]:
        self.queries += 1
        with self.conn.cursor(row_factory=factory) as cur:
            cur.execute(text.encode() if isinstance(text, str) else text, params)
            return cur.fetchall()


#: server errors that mean "cannot be read here" (record why), not "something broke"
UNREADABLE: tuple[type[psycopg.Error], ...] = (
    pgerrors.InsufficientPrivilege, pgerrors.LockNotAvailable, pgerrors.QueryCanceled,
    pgerrors.ObjectNotInPrerequisiteState)


def unavailable_reason(exc: psycopg.Error) -> str:
    """Why a read could not be done, in the words of a ``skipped`` entry (shared by the
    collector and the cache catalogue, so a missing privilege reads the same in both)."""
    if isinstance(exc, pgerrors.InsufficientPrivilege):
        return f"permission denied: {first_line(exc)}"
    if isinstance(exc, pgerrors.LockNotAvailable):
        return "a lock it needed was not granted within lock_timeout"
    if isinstance(exc, pgerrors.QueryCanceled):
        return "it ran past statement_timeout"
    return f"query failed: {first_line(exc)}"


ProbeFunc = Callable[[ProbeContext], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class ProbeSpec:
    """A registered probe: the part it fills and the function that reads it."""

    part: Part
    func: ProbeFunc
    fields: frozenset[str]

    def read(self, ctx: ProbeContext) -> Mapping[str, Any]:
        """The part's fields as the probe read them; a probe that returns other fields than
        its part declares is a mistake in pgcrisis, not in the server (``TypeError``)."""
        found = self.func(ctx)
        if found.keys() != self.fields:
            raise TypeError(f"the {self.part.name} probe returned {sorted(found)}; its part "
                            f"declares {sorted(self.fields)}")
        return found


#: the probes by part (the collector runs them in the order of :data:`PARTS`)
PROBES: dict[Part, ProbeSpec] = {}


def probe(part: Part) -> Callable[[ProbeFunc], ProbeFunc]:
    """Register the probe of ``part``; a second probe for the same part is refused."""

    def register(func: ProbeFunc) -> ProbeFunc:
        if part in PROBES:
            raise ValueError(f"a probe for part {part.name!r} is already registered")
        PROBES[part] = ProbeSpec(part, func, frozenset(part.fields))
        return func

    return register


def missing_probes() -> list[str]:
    """The parts no probe is registered for (the collector refuses to start with any)."""
    return [p.name for p in PARTS if p not in PROBES]
