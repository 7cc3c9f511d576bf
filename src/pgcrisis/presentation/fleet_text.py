"""How the fleet's figures are written, once for every renderer (terminal, JSON, the web's
fleet page): a time to exhaustion with its interval, the worst finding now, minutes seized
up, and a sparkline (as block characters, or as an SVG path).
"""

from __future__ import annotations

from collections.abc import Sequence

from pgcrisis.capacity.fleet import FleetRow
from pgcrisis.capacity.forecast import Exhaustion, Verdict
from pgcrisis.capacity.report import Resource

#: the sparkline's characters, lowest to highest
BLOCKS = "▁▂▃▄▅▆▇█"


def exhaustion_words(e: Exhaustion, reason: bool = True) -> str:
    """``2027-03-01 (2027-02-01 to 2027-05-01, 80 %)``, ``reached``, ``cannot tell: …``.

    >>> from datetime import date
    >>> exhaustion_words(Exhaustion(Verdict.DATE, date(2027, 3, 1), date(2027, 2, 1),
    ...                             date(2027, 5, 1), 0.8, "linear fit of 60 days"))
    '2027-03-01 (2027-02-01 to 2027-05-01, 80 %)'
    """
    if e.verdict is Verdict.REACHED:
        return "reached"
    if e.verdict is Verdict.DATE and e.when is not None:
        interval = (f" ({e.low} to {e.high}, {round(e.level * 100)} %)"
                    if e.low is not None and e.high is not None else "")
        return f"{e.when}{interval}"
    why = f": {e.reason}" if e.reason and reason else ""
    if e.verdict is Verdict.NOT_WITHIN:
        return "not within the horizon" + why
    return "cannot tell" + why


def first_words(first: Resource | None, note: str, reason: bool = True) -> str:
    """The row's time to exhaustion: the resource and when, or why it is not known
    (``reason``: with why it cannot tell; a table says the reasons once, beneath)."""
    if first is None:
        return note or "nothing runs out"
    return f"{first.label}: {exhaustion_words(first.exhaustion, reason)}"


def worst_words(row: FleetRow) -> str:
    """``critical: Sessions blocked (lock-chain)``, ``nothing above info``, ``no sample``."""
    if row.worst is None:
        return "no sample"
    if row.worst.severity is None:
        return "nothing above info"
    return f"{row.worst.severity}: {row.worst.title} ({row.worst.code})"


def seized_words(row: FleetRow) -> str:
    """Minutes seized up this week, ``not recorded`` when no sample of it is kept."""
    return "not recorded" if row.seized_week is None else f"{row.seized_week} min"


def sparkline(values: Sequence[float | None]) -> str:
    """The values as block characters (a gap as a space), scaled to the highest.

    >>> sparkline([0, 1, 2, None, 4])
    '▁▃▅ █'
    """
    known = [v for v in values if v is not None]
    top = max(known, default=0.0)
    return "".join(" " if v is None else
                   BLOCKS[min(len(BLOCKS) - 1, int(v / top * (len(BLOCKS) - 1) + 0.5))
                          if top > 0 else 0] for v in values)


def spark_path(values: Sequence[float | None], width: int = 120, height: int = 24) -> str:
    """The values as an SVG path in a ``width`` by ``height`` box (a gap breaks the line),
    scaled to the highest.

    >>> spark_path([0, 2, None, 1], width=30, height=10)
    'M0.0,9.0L10.0,1.0M30.0,5.0'
    """
    known = [v for v in values if v is not None]
    top = max(known, default=0.0)
    step = width / max(1, len(values) - 1)
    out, open_ = [], False
    for i, v in enumerate(values):
        if v is None:
            open_ = False
            continue
        y = height - 1 - (v / top * (height - 2) if top > 0 else 0.0)
        out.append(f"{'L' if open_ else 'M'}{i * step:.1f},{y:.1f}")
        open_ = True
    return "".join(out)
