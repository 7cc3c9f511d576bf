"""The demo records while it replays the incident, then judges the recording: triage of the
worst recorded moment must name the same causes as the live triage did, after the faults are
gone (which is what ``pgcrisis record`` is for)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
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

    def stop(self) -> None:
        self._recorder.stop()
        self._thread.join(30)
        self._writer.close()
        self._store.close()


def _weight(report: TriageReport) -> tuple[int, int, float]:
    critical = sum(f.severity is Severity.CRITICAL for f in report.findings)
    warning = sum(f.severity is Severity.WARNING for f in report.findings)
    return critical, warning, sum(f.impact for f in report.findings)


def judge_recording(path: Path, start: datetime, end: datetime) -> PastTriage | None:
    """The worst recorded moment between ``start`` and ``end``, judged as triage --at would."""
    store = open_store(str(path), create=False)
    try:
        snapshots = list(store.snapshots(NAME, start, end))
        if not snapshots:
            return None
        target = Target("", "demo recording", label="demo recording")
        worst = max(snapshots, key=lambda s: _weight(judge(target, s)))
        at = worst.server_time or worst.taken_at
        report = triage_at(store, NAME, at)
        picture = tuple(per_minute(snapshots, seconds=BUCKET_S))
    finally:
        store.close()
    return PastTriage(at, report, picture, len(snapshots))
