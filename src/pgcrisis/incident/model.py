"""An incident's events and milestones (pure).

Events, one a line: ``started`` (title, and ``began`` when the impact started earlier),
``note`` (a person's text), ``triage`` (the root findings of one triage run), ``status`` (a
customer update's state and impact), ``closed``. Milestones: started, detected (the first
triage with a warning or critical root), identified (the first status past investigating,
else the first action applied), mitigated (the first action that worked, else a status of
monitoring), resolved (closed, else a status of resolved).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pgcrisis.errors import ConfigError
from pgcrisis.journal import JournaledAction

STATES = ("investigating", "identified", "monitoring", "resolved")
IMPACTS = ("none", "minor", "major", "critical")


@dataclass(frozen=True, slots=True)
class Root:
    """A root finding as an incident keeps it."""

    code: str
    severity: str
    title: str
    remedy: str = ""
    sql: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "title": self.title,
                "remedy": self.remedy, "sql": list(self.sql)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Root:
        return cls(data["code"], data.get("severity", ""), data.get("title", ""),
                   data.get("remedy", ""), tuple(data.get("sql", ())))


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the incident file."""

    at: datetime
    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def roots(self) -> tuple[Root, ...]:
        return tuple(Root.from_json(r) for r in self.data.get("roots", ()))

    @property
    def consequences(self) -> tuple[Root, ...]:
        """The non-root findings of a triage (their remedies are action items too)."""
        return tuple(Root.from_json(r) for r in self.data.get("consequences", ()))


@dataclass(frozen=True, slots=True)
class Milestones:
    """When each milestone was reached (None: not yet)."""

    began: datetime
    started: datetime
    detected: datetime | None
    identified: datetime | None
    mitigated: datetime | None
    resolved: datetime | None

    @property
    def time_to_detect(self) -> timedelta | None:
        return self.detected - self.began if self.detected else None

    @property
    def time_to_resolve(self) -> timedelta | None:
        return self.resolved - self.began if self.resolved else None

    @property
    def time_to_mitigate(self) -> timedelta | None:
        return self.mitigated - self.began if self.mitigated else None


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident read from its file."""

    id: str
    title: str
    events: tuple[Event, ...]

    @property
    def started(self) -> datetime:
        return self.events[0].at

    @property
    def began(self) -> datetime:
        began = self.events[0].data.get("began")
        return datetime.fromisoformat(began) if began else self.started

    @property
    def closed(self) -> datetime | None:
        return next((e.at for e in self.events if e.kind == "closed"), None)

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def roots(self) -> list[Root]:
        """Every distinct root finding seen, first seen first."""
        seen: dict[tuple[str, str], Root] = {}
        for event in self.of("triage"):
            for root in event.roots:
                seen.setdefault((root.code, root.title), root)
        return list(seen.values())

    def consequences(self) -> list[Root]:
        """Every distinct finding seen that was not a root, first seen first."""
        roots = {(r.code, r.title) for r in self.roots()}
        seen: dict[tuple[str, str], Root] = {}
        for event in self.of("triage"):
            for found in event.consequences:
                if (found.code, found.title) not in roots:
                    seen.setdefault((found.code, found.title), found)
        return list(seen.values())

    def latest_status(self) -> Event | None:
        statuses = self.of("status")
        return statuses[-1] if statuses else None


def check_state(state: str) -> str:
    if state not in STATES:
        raise ConfigError(f"status {state!r} is not one of {', '.join(STATES)}")
    return state


def check_impact(impact: str) -> str:
    if impact not in IMPACTS:
        raise ConfigError(f"impact {impact!r} is not one of {', '.join(IMPACTS)}")
    return impact


def in_window(actions: Iterable[JournaledAction], start: datetime,
              end: datetime | None) -> list[JournaledAction]:
    """The journaled actions applied while the incident was open."""
    return [a for a in actions if a.at >= start.replace(microsecond=0)
            and (end is None or a.at <= end)]


def milestones(incident: Incident, actions: Sequence[JournaledAction]) -> Milestones:
    """The incident's milestones from its events and the actions of its window."""
    detected = next((e.at for e in incident.of("triage")
                     if any(r.severity in ("critical", "warning") for r in e.roots)), None)
    statuses = incident.of("status")

    def status_at(*states: str) -> datetime | None:
        return next((e.at for e in statuses if e.data.get("state") in states), None)

    first_action = actions[0].at if actions else None
    worked = next((a.at for a in actions if a.ok and a.undoes is None), None)
    identified = status_at("identified", "monitoring", "resolved") or first_action
    mitigated = worked or status_at("monitoring", "resolved")
    resolved = incident.closed or status_at("resolved")
    return Milestones(incident.began, incident.started, detected, identified, mitigated,
                      resolved)
