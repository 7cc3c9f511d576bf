"""Session rows: every session as the sessions screen lists it, filtered and sorted.

A row carries what a person scans for in a crisis: how long (by query, transaction or since
the session connected), what it waits for, how many locks it holds (every lock type, as the
lock-hoarder check counts them), who blocks it, and which findings name it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace

from pgcrisis.model.activity import Backend, SessionGroup, SessionKind
from pgcrisis.model.findings import Finding
from pgcrisis.model.snapshot import Snapshot

#: what "duration" counts from, and the Backend age each one reads
DURATIONS: Mapping[str, str] = {"query": "query_age_s", "transaction": "xact_age_s",
                                "backend": "backend_age_s"}


@dataclass(frozen=True, slots=True)
class SessionRow(SessionKind):
    """One session as the sessions screen shows it."""

    pid: int
    database: str
    user: str
    application: str
    client: str
    backend_type: str
    state: str
    query_s: float | None
    xact_s: float | None
    backend_s: float | None
    wait: str                  # "Lock:relation", "IO:DataFileRead", or ""
    locks: int                 # pg_locks rows it holds (granted), every lock type
    blocked_by: tuple[int, ...]
    query: str
    findings: tuple[str, ...]  # codes of the findings naming this session

    @property
    def idle(self) -> bool:
        """Idle (not in a transaction): hidden unless asked for."""
        return self.state == "idle"

    def duration(self, basis: str) -> float | None:
        """Seconds since the query, transaction or connection started (``DURATIONS``)."""
        return {"query": self.query_s, "transaction": self.xact_s,
                "backend": self.backend_s}[basis]


def pids_named(findings: Iterable[Finding]) -> dict[int, tuple[str, ...]]:
    """The codes of the findings that name each pid (a group names its members too)."""
    named: dict[int, list[str]] = {}
    for f in findings:
        for obj in f.objects:
            if obj.pid is not None and f.code not in named.setdefault(obj.pid, []):
                named[obj.pid].append(f.code)
    return {pid: tuple(codes) for pid, codes in named.items()}


def session_rows(snapshot: Snapshot, findings: Iterable[Finding] = ()) -> tuple[SessionRow, ...]:
    """Every session of ``snapshot`` as a row: its rows, then the sessions a recording
    counted rather than kept (:func:`counted_rows`)."""
    held = {c.pid: c.granted for c in snapshot.lock_counts}
    named = pids_named(findings)
    rows = tuple(_row(b, held.get(b.pid, 0), named.get(b.pid, ())) for b in snapshot.activity)
    return rows + counted_rows(snapshot.counted_sessions) if snapshot.counted_sessions else rows


def counted_rows(groups: Iterable[SessionGroup]) -> tuple[SessionRow, ...]:
    """A row for each session a recording counted (a replay lists every session, as live):
    what its group says (database, user, client, state, wait), no query and ages of zero
    (``None`` where the state has none: no transaction when idle, nothing without a state),
    and a negative number in place of the pid it did not keep (-1, -2, ...).

    >>> g = SessionGroup("db", "u", "web", None, "client backend", "idle", None, None, 2)
    >>> [(r.pid, r.state, r.xact_s, r.query_s) for r in counted_rows([g])]
    [(-1, 'idle', None, 0.0), (-2, 'idle', None, 0.0)]
    """
    out: list[SessionRow] = []
    for g in groups:
        xact = None if g.state is None or g.state == "idle" else 0.0
        other = None if g.state is None else 0.0
        wait = ":".join(x for x in (g.wait_event_type, g.wait_event) if x)
        for _ in range(g.sessions):
            out.append(SessionRow(
                pid=-len(out) - 1, database=g.datname or "", user=g.usename or "",
                application=g.application_name, client=g.client_addr or "",
                backend_type=g.backend_type, state=g.state or g.backend_type, query_s=other,
                xact_s=xact, backend_s=None, wait=wait, locks=0, blocked_by=(), query="",
                findings=()))
    return tuple(out)


def _row(b: Backend, locks: int, codes: tuple[str, ...]) -> SessionRow:
    wait = ":".join(x for x in (b.wait_event_type, b.wait_event) if x)
    return SessionRow(
        pid=b.pid, database=b.datname or "", user=b.usename or "",
        application=b.application_name, client=b.client_addr or "",
        backend_type=b.backend_type, state=b.state or b.backend_type,
        query_s=b.query_age_s, xact_s=b.xact_age_s, backend_s=b.backend_age_s,
        wait=wait, locks=locks, blocked_by=b.blocked_by, query=b.query, findings=codes)


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """What the sessions screen shows: every given criterion must hold (text matches are
    case-insensitive substrings; ``text`` looks in the query, application, user and client)."""

    database: str = ""
    user: str = ""
    application: str = ""
    client: str = ""
    state: str = ""
    text: str = ""
    show_idle: bool = False
    only_pids: frozenset[int] = frozenset()  # a selected finding's sessions

    def keeps(self, row: SessionRow) -> bool:
        if self.only_pids and row.pid not in self.only_pids:
            return False
        if row.idle and not self.show_idle and not self.only_pids:
            return False
        for attr in ("database", "user", "application", "client", "state"):
            wanted = getattr(self, attr)
            if wanted and wanted.lower() not in getattr(row, attr).lower():
                return False
        if self.text:
            needle = self.text.lower()
            hay = " ".join((row.query, row.application, row.user, row.client,
                            str(row.pid))).lower()
            if needle not in hay:
                return False
        return True

    def with_(self, **changes: object) -> SessionFilter:
        return replace(self, **changes)  # type: ignore[arg-type]

    def describe(self) -> str:
        """The active criteria in one line ("" when everything shows)."""
        parts = [f"{f.name}~{getattr(self, f.name)}" for f in fields(self)
                 if f.name in ("database", "user", "application", "client", "state", "text")
                 and getattr(self, f.name)]
        if self.only_pids:
            parts.append(f"{len(self.only_pids)} sessions of a finding")
        if self.show_idle:
            parts.append("idle shown")
        return ", ".join(parts)


#: sort keys the sessions screen offers (the duration key follows the chosen basis)
SORT_KEYS = ("duration", "locks", "pid", "state", "database", "user", "application", "wait")


def sort_rows(rows: Iterable[SessionRow], key: str = "duration", *, basis: str = "query",
              descending: bool = True) -> list[SessionRow]:
    """Rows ordered by ``key`` (``SORT_KEYS``); missing durations last."""
    rows = list(rows)
    if key == "duration":
        present = [r for r in rows if r.duration(basis) is not None]
        absent = [r for r in rows if r.duration(basis) is None]
        present.sort(key=lambda r: (r.duration(basis) or 0.0, -r.pid), reverse=descending)
        return present + sorted(absent, key=lambda r: r.pid)
    if key == "locks":
        return sorted(rows, key=lambda r: (r.locks, -r.pid), reverse=descending)
    if key == "pid":
        return sorted(rows, key=lambda r: r.pid, reverse=descending)
    return sorted(rows, key=lambda r: (str(getattr(r, key)).lower(), r.pid),
                  reverse=descending)


#: the ``field:value`` forms the filter line accepts, and the SessionFilter field each sets
FILTER_FIELDS: Mapping[str, str] = {
    "database": "database", "db": "database", "user": "user", "application": "application",
    "app": "application", "client": "client", "state": "state"}


def parse_filter(text: str, base: SessionFilter | None = None) -> SessionFilter:
    """The filter a person typed: ``field:value`` words (database/db, user, application/app,
    client, state) and free text (matched in the query, application, user, client, pid).
    The idle toggle of ``base`` is kept; a finding's pids are not (a new filter replaces it).

    >>> f = parse_filter("db:shop state:active count(*)")
    >>> (f.database, f.state, f.text)
    ('shop', 'active', 'count(*)')
    >>> parse_filter("").describe()
    ''
    """
    changes: dict[str, str] = {}
    words: list[str] = []
    for word in text.split():
        name, sep, value = word.partition(":")
        if sep and name.lower() in FILTER_FIELDS and value:
            changes[FILTER_FIELDS[name.lower()]] = value
        else:
            words.append(word)
    show_idle = base.show_idle if base is not None else False
    return SessionFilter(show_idle=show_idle, text=" ".join(words)).with_(**changes)
