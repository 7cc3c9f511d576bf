"""The words for people: a customer status update and a post-mortem draft (pure).

The status update is for customers: plain words, no SQL and no internal names (finding codes,
pids, roles, job names) unless ``internal``. The post-mortem is for the team and keeps the
evidence: root causes from the findings, the actions from the journal, the remedies not yet
applied as action items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pgcrisis.history.timeline import Minute
from pgcrisis.incident.figures import BeforeAfter, before_after
from pgcrisis.incident.model import Incident, Milestones, Root, milestones
from pgcrisis.journal import JournaledAction
from pgcrisis.model.findings import Finding

#: what users notice, per finding code, in plain words
NOTICED = {
    "blocking-lock": "some requests hang or time out",
    "idle-in-transaction": "some requests hang or time out",
    "lock-hoarder": "some requests hang or fail",
    "long-transaction": "the service slows down over time",
    "long-running-query": "some pages or reports are slow",
    "slow-query": "some pages or reports are slow",
    "missing-index": "some pages or reports are slow",
    "runaway-client": "the service is slow and some connections are refused",
    "connection-saturation": "some requests fail to connect",
    "jit-overhead": "some requests are slower than usual",
    "matview-blocking-refresh": "some pages hang while data is refreshed",
    "matview-concurrent-unready": "some pages hang while data is refreshed",
    "refresh-spike": "the service slows down at certain times of day",
    "job-too-frequent": "the service is slower than usual",
    "job-failing": "some background processing is delayed",
    "job-backlog": "some background processing is delayed",
}

STATE_WORDS = {
    "investigating": "We are investigating",
    "identified": "We have identified the cause and are working on a fix",
    "monitoring": "A fix is in place and we are monitoring the results",
    "resolved": "This incident is resolved",
}


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    title: str
    state: str
    impact: str
    at: datetime
    noticed: tuple[str, ...]
    next_update: datetime | None
    internal: tuple[str, ...] = ()   # root finding titles, only when asked


def status_update(incident: Incident, *, state: str, impact: str, at: datetime,
                  noticed: Sequence[str] = (), next_in: timedelta | None = None,
                  internal: bool = False) -> StatusUpdate:
    """The customer update: what users notice comes from the person, else from the root
    findings in plain words."""
    roots = incident.roots()
    words = list(noticed) or list(dict.fromkeys(NOTICED.get(r.code, "the service is degraded")
                                                for r in roots))
    return StatusUpdate(incident.title, state, impact, at,
                        tuple(words) or ("the service may be degraded",),
                        None if next_in is None or state == "resolved" else at + next_in,
                        tuple(r.title for r in roots) if internal else ())


@dataclass(frozen=True, slots=True)
class ActionItem:
    """A lasting fix to plan: a remedy's words, the SQL of it not yet run, and the actions
    that already ran part of it (a mitigation, not the fix)."""

    summary: str
    sql: tuple[str, ...]
    from_code: str
    mitigated_by: tuple[str, ...] = ()


def action_items(roots: Sequence[Root], actions: Sequence[JournaledAction]) -> list[ActionItem]:
    """One item per distinct remedy of the incident's findings: what of its SQL has not
    been run, and which actions ran the rest (ending a session is not fixing the client)."""
    kept = [a for a in actions if a.undone_by is None and a.undoes is None]
    items: list[ActionItem] = []
    seen: set[str] = set()
    for root in roots:
        if not root.remedy or root.remedy in seen:
            continue
        seen.add(root.remedy)
        by = tuple(a.id for a in kept if set(a.done) & set(root.sql))
        ran = {s for a in kept for s in a.done}
        items.append(ActionItem(root.remedy, tuple(s for s in root.sql if s not in ran),
                                root.code, by))
    return items


@dataclass(frozen=True, slots=True)
class PostMortem:
    """What the post-mortem draft says, before it is worded."""

    incident: Incident
    milestones: Milestones
    roots: tuple[Root, ...]
    actions: tuple[JournaledAction, ...]
    action_items: tuple[ActionItem, ...]
    impact: str
    noticed: tuple[str, ...]
    first_findings: int | None
    last_findings: int | None
    window: tuple[Finding, ...] = ()
    window_line: str = ""
    figures: tuple[BeforeAfter, ...] = ()
    pivot: datetime | None = None  # the moment the figures are split at (mitigation)
    step_s: int = 60  # the figures' time step


def postmortem(incident: Incident, actions: Sequence[JournaledAction], *,
               window: Sequence[Finding] = (), window_line: str = "",
               minutes: Sequence[Minute] = (), step_s: int = 60) -> PostMortem:
    """The post-mortem draft's content (``actions``: the journal's, in the incident's
    window; ``window``: a recording's window findings, if one covers the period)."""
    roots = incident.roots()
    statuses = incident.of("status")
    order = ("none", "minor", "major", "critical")
    impact = max((str(e.data.get("impact", "none")) for e in statuses),
                 key=lambda i: order.index(i) if i in order else 0, default="not stated")
    noticed = tuple(dict.fromkeys(n for e in statuses for n in e.data.get("noticed", ())))
    triages = incident.of("triage")
    reached = milestones(incident, actions)
    # the figures split where the first action that worked had finished
    worked = next((a for a in actions if a.ok and a.undoes is None), None)
    pivot = (worked.ended_at or worked.at) if worked is not None else reached.mitigated
    figures = before_after(minutes, pivot, step_s) if pivot is not None else ()
    return PostMortem(
        incident, reached, tuple(roots), tuple(actions),
        tuple(action_items([*roots, *incident.consequences()], actions)), impact, noticed,
        int(triages[0].data.get("findings", 0)) if triages else None,
        int(triages[-1].data.get("findings", 0)) if triages else None,
        tuple(window), window_line, figures, pivot if figures else None, step_s)
