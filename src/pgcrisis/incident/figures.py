"""Before and after: the recording's per-minute picture on each side of the mitigation.

A post-mortem says what the damage looked like and that the fix worked; both are figures the
recording measured, never estimates: the peak and the mean of each row of the report's
picture (:data:`pgcrisis.history.timeline.ROWS`) over the minutes before the mitigation and
the minutes after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean

from pgcrisis.history.timeline import ROWS, Minute


@dataclass(frozen=True, slots=True)
class BeforeAfter:
    """One row of the picture, on both sides of the mitigation."""

    label: str
    unit: str
    before_peak: float
    before_mean: float
    after_peak: float
    after_mean: float


def before_after(minutes: Sequence[Minute], pivot: datetime,
                 step_s: int = 60) -> tuple[BeforeAfter, ...]:
    """Each row's peak and mean over the steps that end by ``pivot`` and over those that start
    a full step after it (the step in which the change took effect is neither: its worst
    sample may predate the change, and ``pivot`` is known to the second); nothing when either
    side has no step.

    >>> from datetime import UTC, timedelta
    >>> t = datetime(2026, 1, 1, 9, tzinfo=UTC)
    >>> ms = [Minute(t + timedelta(minutes=i), 60, a, w, 0, 0, 0.0)
    ...       for i, (a, w) in enumerate([(9, 7), (12, 10), (2, 0)])]
    >>> rows = before_after(ms, t + timedelta(minutes=1))
    >>> [(r.label, r.before_peak, r.before_mean, r.after_peak) for r in rows[:2]]
    [('active sessions', 9.0, 9.0, 2.0), ('lock waiters', 7.0, 7.0, 0.0)]
    """
    step = timedelta(seconds=step_s)
    before = [m for m in minutes if m.start + step <= pivot]
    # the journal keeps whole seconds: the change may have landed up to a second after it
    after = [m for m in minutes if m.start >= pivot + max(step, timedelta(seconds=1))]
    if not before or not after:
        return ()
    out = []
    for label, attribute, unit in ROWS:
        b = [float(getattr(m, attribute)) for m in before]
        a = [float(getattr(m, attribute)) for m in after]
        out.append(BeforeAfter(label, unit, max(b), fmean(b), max(a), fmean(a)))
    return tuple(out)
