"""The recorder loop: sample with triage's own probes and safe sessions, store frames.

Fast parts (sessions, locks, prepared transactions) every interval; every part once a
minute, and at once when a finding first appears in a fast sample or when asked
(:meth:`Recorder.request_full`): a moment worth judging later then has its statements, jobs
and tables of that moment, not of the minute before (a short incident can fall between two
minutes' samples). A finding that comes and goes buys at most one such sample per minute
(``slow_every_s``) and finding code. Each sample runs on the same read-only, time-limited
session triage uses, so a lock
queue on a table the probes read cannot hold the recorder up for longer than the session's
``lock_timeout``: a part that cannot be read becomes ``unavailable`` in that frame, and the
next sample comes on time. A sample that takes longer than the interval makes the recorder
skip the next tick rather than queue. A lost server is recorded as an event (a gap is evidence
too), and the recorder reconnects with backoff. It never writes to the watched server.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from pgcrisis.checks import catalogue  # noqa: F401  (registers every check)
from pgcrisis.checks.registry import CHECKS, run_checks
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.collect.collector import collect, with_parts
from pgcrisis.collect.load_frames import FrameLoad
from pgcrisis.collect.probe import ProbeOptions
from pgcrisis.collect.session import SessionLimits, connect
from pgcrisis.dsn import Target
from pgcrisis.errors import ConnectError, first_line
from pgcrisis.model.findings import Finding, Severity
from pgcrisis.model.parts import FAST_PARTS, RECORDED_PARTS, SLOW_PARTS, Part, names
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.record.keep import kept
from pgcrisis.store import Event, Frame, StoreWriter

#: the longest wait between two reconnection attempts
MAX_BACKOFF_S = 30.0


@dataclass(frozen=True, slots=True)
class RecorderOptions:
    """How often to sample, what to keep, and the session's limits."""

    interval_s: float = 1.0
    slow_every_s: float = 60.0
    retention: timedelta = timedelta(days=14)
    thin_after: timedelta = timedelta(hours=48)
    maintain_every_s: float = 600.0
    limits: SessionLimits = field(default_factory=SessionLimits)
    #: index advice is verified once a minute at most, with hypopg, like triage does
    probe_options: ProbeOptions = field(default_factory=ProbeOptions)
    thresholds: Thresholds = field(default_factory=Thresholds)
    #: judge each frame (its ``worst``, which thinning keeps); ``top`` judges its own view
    judge: bool = True
    #: count the sessions no check acts on rather than keep their rows (:mod:`.keep`);
    #: ``top`` shows every session, and keeps them all
    count_sessions: bool = True


@dataclass
class RecorderStats:
    """What the recorder has done so far (for its progress line and the tests)."""

    frames: int = 0
    full_frames: int = 0
    #: full samples taken out of turn: a finding appeared in a fast one, or one was asked for
    extra_full_frames: int = 0
    #: the latest request for a full sample (:meth:`Recorder.request_full`) a stored full
    #: sample answered, and that sample's server time
    answered: int = 0
    answered_at: datetime | None = None
    events: int = 0
    last_server_time: datetime | None = None
    last_sample_s: float = 0.0
    reconnects: int = 0


def fast_checks() -> tuple[str, ...]:
    """The checks that read only the parts sampled every interval (sessions, locks, prepared
    transactions): between two full samples nothing else they read has changed."""
    return tuple(code for code, spec in CHECKS.items()
                 if set(spec.needs) <= names(FAST_PARTS))


def worst_of(findings: Iterable[Finding]) -> Severity | None:
    """The worst severity of ``findings`` (``None``: nothing above info)."""
    severities = {f.severity for f in findings}
    for level in (Severity.CRITICAL, Severity.WARNING):
        if level in severities:
            return level
    return None


def flagged(findings: Iterable[Finding]) -> frozenset[str]:
    """The codes of the findings above info."""
    return frozenset(f.code for f in findings if f.severity is not Severity.INFO)


def frame_of(snapshot: Snapshot, parts: tuple[Part, ...], *, local_time: datetime,
             worst_severity: Severity | None, count_sessions: bool = True) -> Frame:
    """The frame that stores the ``parts`` of ``snapshot`` (its sessions as a recording keeps
    them unless ``count_sessions`` is off)."""
    return Frame(kept(snapshot) if count_sessions else snapshot, frozenset(parts),
                 local_time, worst_severity)


def _worse(a: Severity | None, b: Severity | None) -> Severity | None:
    if a is None or b is None:
        return a or b
    return a if a.rank <= b.rank else b


class Recorder:
    """Samples ``target`` into ``writer`` until :meth:`stop` (or ``max_frames``)."""

    def __init__(self, target: Target, writer: StoreWriter,
                 options: RecorderOptions | None = None, *,
                 on_frame: Callable[[Frame, RecorderStats], None] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.target = target
        self.writer = writer
        self.options = options or RecorderOptions()
        self.on_frame = on_frame
        self.stats = RecorderStats()
        self._clock = clock
        self._sleep = sleep
        self._stopping = False
        self._conn: psycopg.Connection[Any] | None = None
        self._server: ServerInfo | None = None
        self._slow: Snapshot | None = None  # the latest full sample: slow parts for judging
        self._next_slow = 0.0
        self._next_maintain = 0.0
        self._started_at: datetime | None = None
        self._last_ok: float | None = None
        self._fast_codes = fast_checks()
        self._slow_codes = tuple(code for code in CHECKS if code not in self._fast_codes)
        self._slow_worst: Severity | None = None
        self._requested = 0  # requests for a full sample so far
        self._flagged: frozenset[str] = frozenset()  # fast checks' codes in the last sample
        self._forced_at: dict[str, float] = {}       # when a code last bought a full sample
        #: each frame's load profile, over the last samples (collect/load_frames.py)
        self._frames = FrameLoad()

    def stop(self) -> None:
        """Ask the loop to end after the current sample (safe from another thread)."""
        self._stopping = True

    def request_full(self) -> int:
        """Make the next sample a full one, every part read (from another thread): for a
        moment that must be judged later with everything it had (the demo asks after each
        fault and at its worst moment). The request's number: once ``stats.answered`` reaches
        it, a full sample taken after the request is stored (``stats.answered_at``)."""
        self._requested += 1
        return self._requested

    # -- the loop -------------------------------------------------------------------------

    def run(self, max_frames: int | None = None, seconds: float | None = None) -> RecorderStats:
        """Record until :meth:`stop` is called, ``max_frames`` frames are stored or
        ``seconds`` have passed. A server that cannot be reached at the start is an error
        (a wrong DSN should not be retried forever); once recording, a lost server is an
        event and the recorder reconnects with backoff."""
        self._conn = connect(self.target, self.options.limits)  # raises ConnectError
        self._event("start", f"recording {self.target.redacted}")
        backoff = 1.0
        next_tick = self._clock()
        end = None if seconds is None else next_tick + seconds
        try:
            while not self._stopping and (max_frames is None
                                          or self.stats.frames < max_frames):
                if end is not None and self._clock() >= end:
                    break
                if self._conn is None:
                    if not self._reconnect():
                        self._wait(backoff)
                        backoff = min(backoff * 2, MAX_BACKOFF_S)
                        next_tick = self._clock()
                        continue
                    backoff = 1.0
                began = self._clock()
                self._sample_once(began)
                took = self._clock() - began
                self.stats.last_sample_s = took
                next_tick += self.options.interval_s
                if took > self.options.interval_s:
                    # skip, never queue: the next sample starts on the next whole interval
                    missed = int((self._clock() - next_tick) // self.options.interval_s) + 1
                    if missed > 0:
                        self._event("slow-sample", f"a sample took {took:.2f} s; "
                                    f"{missed} skipped")
                        next_tick += missed * self.options.interval_s
                self._wait(next_tick - self._clock())
        finally:
            self._close()
            self._event("stop", f"{self.stats.frames} frames")
        return self.stats

    def _wait(self, seconds: float) -> None:
        end = self._clock() + max(0.0, min(seconds, MAX_BACKOFF_S))
        while not self._stopping:
            left = end - self._clock()
            if left <= 0:
                return
            self._sleep(min(left, 0.2))

    def _reconnect(self) -> bool:
        try:
            self._conn = connect(self.target, self.options.limits)
        except ConnectError as exc:
            if self.stats.reconnects == 0 or self._last_ok is not None:
                self._event("disconnect", str(exc))
            self._last_ok = None
            self.stats.reconnects += 1
            return False
        if self.stats.reconnects:
            self._event("reconnect", "the server accepts connections again")
        self._server = None
        self._next_slow = 0.0
        return True

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):  # closing a dead connection
                conn.close()

    def _sample_once(self, now: float) -> None:
        assert self._conn is not None
        wanted = self._requested
        asked = wanted > self.stats.answered
        full = now >= self._next_slow or asked
        extra = full and now < self._next_slow
        try:
            snapshot = collect(self._conn, self.options.probe_options,
                               parts=RECORDED_PARTS if full else FAST_PARTS,
                               server=None if full else self._server, frames=self._frames)
            severity: Severity | None = None
            if self.options.judge and not full:
                severity, full = self._judge_fast(snapshot, now)
                if full:  # a finding appeared: this moment's slow parts too
                    extra = True
                    snapshot = self._with_slow_parts(snapshot)
        except (ConnectError, psycopg.Error) as exc:
            self._event("disconnect", first_line(exc))
            self._close()
            self.stats.reconnects += 1
            return
        if self._last_ok is not None and now - self._last_ok > 2 * self.options.interval_s:
            self._event("gap", f"no sample for {now - self._last_ok:.1f} s")
        self._last_ok = now
        if full:
            self._next_slow = now + self.options.slow_every_s
            previous = self._slow
            self._server = snapshot.server
            self._slow = snapshot
            self._watch_restart(previous, snapshot)
            if self.options.judge:
                severity = self._judge_full(snapshot)
        self._store(snapshot, RECORDED_PARTS if full else FAST_PARTS, severity, now)
        self.stats.full_frames += full
        self.stats.extra_full_frames += extra
        if asked:
            self.stats.answered, self.stats.answered_at = wanted, self.stats.last_server_time

    def _judge_fast(self, snapshot: Snapshot, now: float) -> tuple[Severity | None, bool]:
        """A fast sample judged by the checks of what it read, the slow parts' verdict
        carried over from the last full sample; and whether a finding appeared that buys a
        full sample now (at most one per ``slow_every_s`` and code)."""
        if self._slow is None:
            return None, True  # nothing to carry over yet: judge everything
        findings = run_checks(snapshot, self.options.thresholds, only=self._fast_codes).findings
        codes = flagged(findings)
        fresh = [c for c in codes - self._flagged
                 if now - self._forced_at.get(c, -self.options.slow_every_s)
                 >= self.options.slow_every_s]
        self._flagged = codes
        for code in fresh:
            self._forced_at[code] = now
        return _worse(worst_of(findings), self._slow_worst), bool(fresh)

    def _judge_full(self, snapshot: Snapshot) -> Severity | None:
        """A full sample judged by every check (the slow checks' verdict kept for the fast
        samples until the next)."""
        fast = run_checks(snapshot, self.options.thresholds, only=self._fast_codes).findings
        slow = run_checks(snapshot, self.options.thresholds, only=self._slow_codes).findings
        self._slow_worst = worst_of(slow)
        self._flagged = flagged(fast)
        return _worse(worst_of(fast), self._slow_worst)

    def _with_slow_parts(self, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` (a fast sample) with the slow parts read now (and the server's facts
        read again, as every full sample does)."""
        assert self._conn is not None
        slow = collect(self._conn, self.options.probe_options, parts=SLOW_PARTS)
        return replace(with_parts(snapshot, slow, SLOW_PARTS), server=slow.server,
                       query_count=snapshot.query_count + slow.query_count)

    def _store(self, snapshot: Snapshot, parts: tuple[Part, ...], severity: Severity | None,
               now: float) -> None:
        """Hand the sample to the writer as a frame; maintain the store when it is time."""
        frame = frame_of(snapshot, parts, local_time=datetime.now(UTC), worst_severity=severity,
                         count_sessions=self.options.count_sessions)
        self.writer.append(frame)
        self.stats.frames += 1
        self.stats.last_server_time = frame.server_time
        if self.on_frame is not None:
            self.on_frame(frame, self.stats)
        if now >= self._next_maintain:
            self._next_maintain = now + self.options.maintain_every_s
            self.writer.maintain(frame.server_time, retention=self.options.retention,
                                 thin_after=self.options.thin_after)

    def _watch_restart(self, previous: Snapshot | None, current: Snapshot) -> None:
        """A changed start time is a restart (every counter restarted); falling statement
        totals are a statistics reset: both are events, so deltas across them are not read as
        work done."""
        if previous is None:
            return
        if (previous.server_started_at and current.server_started_at
                and current.server_started_at != previous.server_started_at):
            self._event("restart", f"the server started again at "
                        f"{current.server_started_at.isoformat()}")
            return
        before = {s.queryid: s.calls for s in previous.statements.rows}
        fell = [q for q, calls in ((s.queryid, s.calls) for s in current.statements.rows)
                if q in before and calls < before[q]]
        if fell:
            self._event("stats-reset", f"pg_stat_statements counters went down for "
                        f"{len(fell)} statements")

    def _event(self, kind: str, detail: str) -> None:
        self.writer.event(Event(datetime.now(UTC), kind, detail))
        self.stats.events += 1
