"""The demo records while it replays the incident, then judges the recording: triage of the
worst recorded moment must name the same causes as the live triage did, after the faults are
gone (which is what ``pgcrisis record`` is for).

The incident lasts seconds, so the demo does not leave it to the recorder's schedule to read
the slow parts (statements, jobs, tables) while the faults are in: it asks for a full sample
after each fault and at its worst moment, every fault in and proven
(:meth:`DemoRecorder.full_sample`), and the worst moment is looked for from there on. Whatever
the scale, the moment judged then has every part of its own time."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pgcrisis.collect.session import SessionLimits
from pgcrisis.dsn import Target
from pgcrisis.history.service import triage_at
from pgcrisis.history.timeline import Minute, per_minute
from pgcrisis.judge import TriageReport, judge
from pgcrisis.model.findings import Severity
from pgcrisis.record.recorder import Recorder, RecorderOptions
from pgcrisis.store import open_store

#: sessions and locks twice a second, everything every 2 s: the demo's incident is short
DEMO_OPTIONS = RecorderOptions(interval_s=0.5, slow_every_s=2.0,
                               limits=SessionLimits(statement_timeout_ms=3000))
NAME = "demo"
#: the picture's bucket: a few seconds, since the demo's incident lasts seconds, not hours
BUCKET_S = 2


@dataclass(frozen=True, slots=True)
class PastTriage:
    """What triage of the recording said: the worst moment, its report, the picture."""

    at: datetime
    report: TriageReport
    picture: tuple[Minute, ...]
    frames: int


class DemoRecorder:
    """``pgcrisis record`` in a thread, into a SQLite file beside the demo's cluster."""

    def __init__(self, dsn: str, path: Path) -> None:
        self.path = path
        self._store = open_store(str(path), create=True)
        self._writer = self._store.writer(NAME, source="demo")
        self._recorder = Recorder(Target(dsn, "demo"), self._writer, DEMO_OPTIONS)
        self._thread = threading.Thread(target=self._recorder.run, name="demo-recorder",
                                         daemon=True)

    def start(self) -> DemoRecorder:
        self._thread.start()
        return self

    def frames(self) -> int:
        """Frames recorded so far."""
        return self._recorder.stats.frames

    def request_full(self) -> None:
        """Make the next sample a full one (every part read), without waiting for it."""
        self._recorder.request_full()

    def full_sample(self, timeout: float = 60.0) -> datetime:
        """Ask for a full sample and wait (up to ``timeout``) until it is stored; its time,
        from which on the recording has every part of its own time (the time of asking if
        it never came)."""
        asked = datetime.now(UTC)
        stats = self._recorder.stats
        request = self._recorder.request_full()
        deadline = time.monotonic() + timeout
        while stats.answered < request and self._thread.is_alive():
            if time.monotonic() > deadline:
                return asked
            time.sleep(0.05)
        return stats.answered_at or asked

    def stop(self) -> None:
        self._recorder.stop()
        self._thread.join(30)
        self._writer.close()
        self._store.close()


def _weight(report: TriageReport) -> tuple[int, int, float]:
    critical = sum(f.severity is Severity.CRITICAL for f in report.findings)
    warning = sum(f.severity is Severity.WARNING for f in report.findings)
    return critical, warning, sum(f.impact for f in report.findings)


def judge_recording(path: Path, start: datetime, end: datetime,
                    worst_from: datetime | None = None) -> PastTriage | None:
    """The worst recorded moment between ``start`` (or ``worst_from``, the demo's worst
    moment, when it asked for a full sample) and ``end``, judged as triage --at would; the
    picture is the whole of ``start`` to ``end``."""
    store = open_store(str(path), create=False)
    try:
        snapshots = list(store.snapshots(NAME, start, end))
        if not snapshots:
            return None
        candidates = [s for s in snapshots
                      if worst_from is None or (s.server_time or s.taken_at) >= worst_from]
        target = Target("", "demo recording", label="demo recording")
        worst = max(candidates or snapshots, key=lambda s: _weight(judge(target, s)))
        at = worst.server_time or worst.taken_at
        report = triage_at(store, NAME, at)
        picture = tuple(per_minute(snapshots, seconds=BUCKET_S))
    finally:
        store.close()
    return PastTriage(at, report, picture, len(snapshots))
