"""What every screen of ``top`` shows at one moment, computed from a snapshot.

The checks run on each snapshot (the same implementation as triage, grouped and linked the
same way); the header's rates come from two consecutive snapshots; the load pane from the
snapshot's load profile and the points of the samples before it (:mod:`.load`). Renderers
only lay this out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pgcrisis import sizes
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.dsn import Target
from pgcrisis.judge import TriageReport, judge
from pgcrisis.model.activity import Backend, SessionGroup
from pgcrisis.model.findings import Finding, Severity
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.store import Event
from pgcrisis.top.load import LoadPoint, LoadView, load_view
from pgcrisis.top.sessions import SessionRow, counted_rows, session_rows
from pgcrisis.top.tree import TreeNode, blocking_tree


@dataclass(frozen=True, slots=True)
class Limit:
    """Connections used against one limit (server, database or role)."""

    scope: str   # "server", "database" or "role"
    name: str
    used: int
    limit: int

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Header:
    """The figures at the top of every screen."""

    by_state: Mapping[str, int]          # client sessions per state
    limits: tuple[Limit, ...]            # the server's, then any database or role near its own
    tps: float | None                    # transactions/s since the previous snapshot
    waiting: int                         # sessions waiting on a lock
    oldest_xact: tuple[int, float] | None  # (pid, seconds)
    horizon: str                         # who holds the xmin horizon back, or ""
    slots: tuple[str, ...]               # "name (inactive, 1.2 GB retained)"
    findings: Mapping[str, int]          # severity -> count, above info only


@dataclass(frozen=True, slots=True)
class TopView:
    """One moment, as every screen shows it."""

    taken_at: datetime
    header: Header
    sessions: tuple[SessionRow, ...]
    tree: tuple[TreeNode, ...]
    findings: tuple[Finding, ...]
    unavailable: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what this view cannot show, and why
    load: LoadView | None = None  # None: no load profile at this moment
    report: TriageReport | None = None  # what the findings came from (a finding's steps)


def build_view(snapshot: Snapshot, previous: Snapshot | None = None, *,
               target: Target | None = None, thresholds: Thresholds | None = None,
               history: tuple[LoadPoint, ...] = ()) -> TopView:
    """The view of ``snapshot``; ``previous`` (the snapshot before it) gives the rates,
    ``history`` the load of the samples before it."""
    report = judge(target or Target("", "top"), snapshot, thresholds)
    findings = tuple(f for f in report.results.findings)
    return TopView(
        taken_at=snapshot.server_time or snapshot.taken_at,
        header=header(snapshot, previous, findings),
        sessions=session_rows(snapshot, findings),
        tree=blocking_tree(snapshot),
        findings=findings,
        unavailable=dict(snapshot.unavailable),
        notes=visibility(snapshot),
        load=load_view(snapshot, history),
        report=report,
    )


def _tally(sessions: Iterable[Backend | SessionGroup],
           key: Callable[[Backend | SessionGroup], str | None]) -> Counter[str]:
    """Sessions per ``key`` (a counted group adds its count; ``None`` keys left out)."""
    out: Counter[str] = Counter()
    for s in sessions:
        k = key(s)
        if k is not None:
            out[k] += s.sessions
    return out


def header(snapshot: Snapshot, previous: Snapshot | None,
           findings: tuple[Finding, ...]) -> Header:
    clients = [b for b in snapshot.all_sessions() if b.is_client]
    by_state = _tally(clients, lambda b: b.state or "unknown")
    ages = [(b.pid, b.xact_age_s) for b in snapshot.activity if b.is_client]
    ages += [(r.pid, r.xact_s) for r in counted_rows(snapshot.counted_sessions)
             if r.is_client]  # as the sessions screen lists them
    oldest = max(((pid, age) for pid, age in ages if age is not None),
                 key=lambda pair: pair[1], default=None)
    severities = Counter(f.severity.value for f in findings if f.severity != Severity.INFO)
    waiting = sum(b.sessions for b in snapshot.all_sessions() if b.wait_event_type == "Lock")
    return Header(by_state=dict(by_state), limits=_limits(snapshot),
                  tps=_tps(snapshot, previous), waiting=waiting,
                  oldest_xact=oldest, horizon=_horizon(snapshot), slots=_slots(snapshot),
                  findings=dict(severities))


def _limits(snapshot: Snapshot) -> tuple[Limit, ...]:
    """Connections against max_connections (minus the reserved ones), and against any
    database or role limit that is at least half used."""
    clients = [b for b in snapshot.all_sessions() if b.is_client]
    settings = snapshot.server.settings or snapshot.server_health.settings
    out: list[Limit] = []
    try:
        most = int(settings.get("max_connections", "0"))
        most -= int(settings.get("superuser_reserved_connections", "0") or 0)
    except ValueError:
        most = 0
    if most > 0:
        out.append(Limit("server", "max_connections",  # +1: us
                         sum(b.sessions for b in clients) + 1, most))
    per_db = _tally(clients, lambda b: b.datname or None)
    for db in snapshot.server_health.databases:
        if db.connection_limit >= 0 and per_db[db.name] * 2 >= db.connection_limit:
            out.append(Limit("database", db.name, per_db[db.name], db.connection_limit))
    per_role = _tally(clients, lambda b: b.usename or None)
    for role in snapshot.server_health.role_limits:
        if role.connection_limit >= 0 and per_role[role.name] * 2 >= role.connection_limit:
            out.append(Limit("role", role.name, per_role[role.name], role.connection_limit))
    return tuple(out)


def _tps(snapshot: Snapshot, previous: Snapshot | None) -> float | None:
    if previous is None or snapshot.transactions is None or previous.transactions is None:
        return None
    now = snapshot.server_time or snapshot.taken_at
    then = previous.server_time or previous.taken_at
    seconds = (now - then).total_seconds()
    done = snapshot.transactions.total - previous.transactions.total
    if seconds <= 0 or done < 0:  # a statistics reset in between: no rate
        return None
    return done / seconds


#: an xmin horizon held back by fewer transaction IDs than this is not worth a glance
HORIZON_MIN_XIDS = 1000


def _horizon(snapshot: Snapshot) -> str:
    """The oldest xmin holder (a session, a prepared transaction or a replication slot) when
    it holds the horizon back by :data:`HORIZON_MIN_XIDS` or more."""
    candidates: list[tuple[int, str]] = []
    for b in snapshot.activity:
        age = max(b.backend_xmin_age or 0, b.backend_xid_age or 0)
        if age >= HORIZON_MIN_XIDS:
            candidates.append((age, f"pid {b.pid} ({age:,} xids)"))
    for s in snapshot.server_health.slots:
        age = max(s.xmin_age or 0, s.catalog_xmin_age or 0)
        if age >= HORIZON_MIN_XIDS:
            candidates.append((age, f"slot {s.name} ({age:,} xids)"))
    for p in snapshot.prepared:  # it holds the horizon however few xids have passed
        candidates.append((HORIZON_MIN_XIDS, f"prepared {p.gid!r} ({p.age_s:,.0f} s)"))
    return max(candidates)[1] if candidates else ""


def _slots(snapshot: Snapshot) -> tuple[str, ...]:
    out = []
    for s in snapshot.server_health.slots:
        what = "active" if s.active else "inactive"
        if s.retained_bytes:
            what += f", {sizes.megabytes(s.retained_bytes, decimals=0, unit='MiB')} retained"
        out.append(f"{s.name} ({what})")
    return tuple(out)


def visibility(snapshot: Snapshot) -> tuple[str, ...]:
    """What a non-superuser session cannot see or do, said once."""
    server = snapshot.server
    notes: list[str] = []
    if not server.is_superuser and not server.can_read_all_stats:
        hidden = sum(1 for b in snapshot.activity if b.query == "<insufficient privilege>")
        notes.append(f"not a member of pg_monitor or pg_read_all_stats: {hidden} sessions' "
                     "queries and waits are hidden")
    if not server.is_superuser:
        notes.append("cancel/terminate work only on your own role's sessions, or with "
                     "pg_signal_backend (never a superuser's)")
    return tuple(notes)


def events_line(events: list[Event]) -> str:
    """The latest recording event worth a glance (a gap, a lost connection), or ""."""
    for e in reversed(events):
        if e.kind in ("gap", "disconnect", "reconnect", "restart", "slow-sample"):
            return f"{e.kind}: {e.detail}"
    return ""


@dataclass(frozen=True, slots=True)
class Moment:
    """One moment as a screen shows it, with where it came from."""

    view: TopView
    snapshot: Snapshot
    seq: int                     # grows with every new moment (the UI redraws on change)
    status: str                  # "live", "reconnecting: …", "replay 3/120 …"
    events: tuple[Event, ...] = ()
