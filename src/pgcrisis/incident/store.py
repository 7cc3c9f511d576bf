"""The incident files: one JSON line per event, UTC times; the open incident remembered.

Where: ``$PGCRISIS_INCIDENT_DIR``, else ``$XDG_STATE_HOME/pgcrisis/incidents``, else
``~/.local/state/pgcrisis/incidents``. ``current`` names the open incident's id; each incident
is ``<id>.jsonl`` (the id is the start time and a slug of the title).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pgcrisis.errors import ConfigError
from pgcrisis.incident.model import Event, Incident, Root
from pgcrisis.judge import TriageReport
from pgcrisis.state import state_path


def incident_dir() -> Path:
    return state_path("PGCRISIS_INCIDENT_DIR", "incidents")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _path(ident: str) -> Path:
    return incident_dir() / f"{ident}.jsonl"


def current_id() -> str | None:
    """The open incident's id, if one is open."""
    marker = incident_dir() / "current"
    if not marker.exists():
        return None
    ident = marker.read_text(encoding="utf-8").strip()
    return ident if ident and _path(ident).exists() else None


def append(ident: str, kind: str, **data: Any) -> Event:
    """Append one event (now, UTC) to incident ``ident``."""
    event = Event(_now(), kind, data)
    with _path(ident).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"at": event.at.isoformat(), "event": kind, **data}) + "\n")
    return event


def start(title: str, began: datetime | None = None) -> str:
    """Open a new incident (one at a time) and remember it as current."""
    if not title.strip():
        raise ConfigError("give the incident a title: pgcrisis incident start \"checkout slow\"")
    if current_id() is not None:
        raise ConfigError(f"incident {current_id()} is still open: close it first "
                          "(pgcrisis incident close)")
    now = _now()
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:30] or "incident"
    ident = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{slug}"
    incident_dir().mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"title": title.strip(), "id": ident}
    if began is not None:
        data["began"] = began.astimezone(UTC).isoformat()
    append(ident, "started", **data)
    (incident_dir() / "current").write_text(ident + "\n", encoding="utf-8")
    return ident


def open_current() -> str:
    """The open incident's id, or one line saying there is none."""
    ident = current_id()
    if ident is None:
        raise ConfigError("no incident is open: pgcrisis incident start \"title\"")
    return ident


def close(ident: str) -> Event:
    """Close the incident (resolved) and forget it as current."""
    event = append(ident, "closed")
    marker = incident_dir() / "current"
    if marker.exists():
        marker.unlink()
    return event


def load(ident: str | None = None) -> Incident:
    """An incident (default: the open one, else the latest closed one)."""
    if ident is None:
        ident = current_id() or _latest()
    path = _path(ident)
    if not path.exists():
        raise ConfigError(f"no incident {ident!r} in {incident_dir()}")
    events: list[Event] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        at = datetime.fromisoformat(record.pop("at"))
        events.append(Event(at, record.pop("event"), record))
    if not events or events[0].kind != "started":
        raise ConfigError(f"{path} is not an incident file")
    return Incident(ident, str(events[0].data.get("title", ident)), tuple(events))


def _latest() -> str:
    files = sorted(incident_dir().glob("*.jsonl"))
    if not files:
        raise ConfigError(f"no incident in {incident_dir()}: pgcrisis incident start \"title\"")
    return files[-1].stem


def roots_of(report: TriageReport, *, depth_0: bool = True) -> list[Root]:
    """The root findings of a report (depth 0 of its cause tree; every finding with
    ``depth_0`` False), info left out."""
    out: list[Root] = []
    for index, depth in report.tree():
        f = report.findings[index]
        if (depth == 0 or not depth_0) and f.severity.value != "info":
            out.append(Root(f.code, f.severity.value, f.title,
                            f.remedy.summary if f.remedy else "",
                            f.remedy.sql if f.remedy else ()))
    return out


def record_triage(report: TriageReport, *, by: str) -> None:
    """If an incident is open, append this triage's root findings to it (``triage`` and
    ``mitigate`` call this once per run). Never fails the command: a note on stderr."""
    ident = current_id()
    if ident is None:
        return
    try:
        append(ident, "triage", by=by, server=report.target.redacted,
               findings=len(report.findings), roots=[r.to_json() for r in roots_of(report)],
               consequences=[r.to_json() for r in roots_of(report, depth_0=False)
                             if r not in roots_of(report)])
    except OSError as exc:
        import sys

        print(f"pgcrisis: could not add to incident {ident}: {exc}", file=sys.stderr)
