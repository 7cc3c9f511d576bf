"""The demo's ending: the playbook of the replayed incident and its post-mortem draft (pure).

The demo applies its fixes itself (each a shown, journaled remedy); this module turns what it
did into the words ``pgcrisis mitigate`` and ``pgcrisis incident postmortem`` would give: the
playbook built from the demo's triage, and a post-mortem draft whose incident runs from the
first fault injected to the last fix measured.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pgcrisis.demo.service import DemoResult
from pgcrisis.incident.model import Event, Incident
from pgcrisis.incident.store import roots_of
from pgcrisis.incident.writeup import PostMortem, postmortem
from pgcrisis.journal import JournaledAction
from pgcrisis.mitigate.playbook import Playbook, build

TITLE = "The seed incident, replayed by pgcrisis demo"


def demo_playbook(result: DemoResult) -> Playbook:
    """The playbook ``pgcrisis mitigate`` gives for the demo's triage."""
    return build(result.report)


def demo_postmortem(result: DemoResult, ended: datetime | None = None) -> PostMortem:
    """The post-mortem draft of the replayed incident (its fixes as the actions taken)."""
    end = (ended or datetime.now(UTC)).replace(microsecond=0)
    began = (end - timedelta(seconds=result.seconds)).replace(microsecond=0)
    triaged = result.report.started_at.replace(microsecond=0)
    report = result.report
    events = (
        Event(began, "started", {"title": TITLE, "id": "demo"}),
        Event(triaged, "triage", {
            "by": "demo", "findings": len(report.findings),
            "roots": [r.to_json() for r in roots_of(report)],
            "consequences": [r.to_json() for r in roots_of(report, depth_0=False)
                             if r not in roots_of(report)]}),
        Event(end, "closed", {}),
    )
    actions = [JournaledAction(id=f"demo-{n}", step=cause.short, title=fix.summary,
                               at=triaged, server="demo", database=None, sql=fix.sql,
                               undo=(), done=fix.sql, kind="remedy")
               for n, cause in enumerate(result.causes, 1)
               if (fix := result.fixes.get(cause.short)) is not None and fix.sql]
    return postmortem(Incident("demo", TITLE, events), actions)
