"""The load profile in one line, as the triage reports head it (terminal and Markdown).

>>> from pgcrisis.model.load import CpuCount, LoadProfile, WaitLoad
>>> p = LoadProfile(1.0, 6, CpuCount(2, "local"), (WaitLoad("CPU", None, 5.5),
...                 WaitLoad("IO", "DataFileRead", 0.5)))
>>> line(p)
'Load over 1.0 s (6 samples): 6.0 active sessions: CPU 5.5 (2 CPUs), IO 0.5'
>>> line(LoadProfile(1.0, 6, CpuCount(None, "unknown"), (WaitLoad("IO", "DataFileRead", 2.0),)))
'Load over 1.0 s (6 samples): 2.0 active sessions: IO 2.0 (CPU count not known)'
"""

from __future__ import annotations

from typing import Any

from pgcrisis.model.load import RECORDED, LoadProfile


def line(profile: LoadProfile) -> str:
    """How long it sampled, the average active sessions by wait class, against the CPUs."""
    where = "the recorded samples" if profile.source == RECORDED else "the window"
    head = (f"Load over {profile.seconds:.1f} s ({profile.samples} samples)"
            if profile.samples else f"Load: no sample of {where}")
    cpus = (f"({profile.cpus.cpus} CPUs)" if profile.cpus.cpus is not None
            else "(CPU count not known)")
    by_class = profile.by_class()
    # The CPU count stands beside the sessions on CPU, the figure it is read against.
    classes = ", ".join(f"{kind} {n:.1f}" + (f" {cpus}" if kind == "CPU" else "")
                        for kind, n in by_class.items())
    tail = "" if "CPU" in by_class else f" {cpus}"
    return (f"{head}: {profile.active:.1f} active sessions"
            + (f": {classes}" if classes else "") + tail)


def to_json(profile: LoadProfile) -> dict[str, Any]:
    """The report's additive ``load`` object (the JSON Schema's)."""
    return {
        "window_s": round(profile.seconds, 2),
        "samples": profile.samples,
        "source": profile.source,
        "active_sessions": round(profile.active, 2),
        "by_class": {kind: round(n, 2) for kind, n in profile.by_class().items()},
        "cpus": profile.cpus.cpus,
        "cpus_known_from": profile.cpus.how,
        "not_seen": list(profile.hidden_lines()),
    }
