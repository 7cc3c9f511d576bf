"""``pgcrisis mitigate --format json``: the playbook, and what ``--apply`` did."""

from __future__ import annotations

import json
from typing import Any

from pgcrisis.journal import JournaledAction
from pgcrisis.mitigate.playbook import Playbook, Step
from pgcrisis.mitigate.service import Applied
from pgcrisis.presentation.triage_json import finding_to_json

SCHEMA_ID = "pgcrisis.mitigate/1"


def step_to_json(step: Step) -> dict[str, Any]:
    a = step.action
    return {"id": step.id, "kind": a.kind, "title": a.title, "sql": list(a.sql),
            "database": a.database, "effect": step.effect, "risk": a.risk,
            "undo": [s.text for s in a.undo], "undo_read_at_apply": a.undo_read_at_apply,
            "codes": list(step.codes), "findings": list(step.findings),
            "unblocks": step.unblocks}


def action_to_json(action: JournaledAction) -> dict[str, Any]:
    return {"id": action.id, "step": action.step, "title": action.title,
            "at": action.at.isoformat(), "ok": action.ok, "done": list(action.done),
            "failed": action.failed, "error": action.error,
            "not_done": list(action.not_done), "undo": list(action.undo),
            "undoes": action.undoes, "undone_by": action.undone_by}


def render(playbook: Playbook, applied: Applied | None = None) -> str:
    out: dict[str, Any] = {
        "schema": SCHEMA_ID, "source": playbook.source, "live": playbook.live,
        "steps": [step_to_json(s) for s in playbook.steps],
        "later": [{"code": i.code, "title": i.title, "remedy": i.remedy, "sql": list(i.sql)}
                  for i in playbook.later],
    }
    if applied is not None:
        out["applied"] = [{"step": o.step.id, "skipped": o.skipped, "error": o.error,
                           "action": action_to_json(o.journaled) if o.journaled else None}
                          for o in applied.outcomes]
        if applied.changes is not None:
            c = applied.changes
            out["changes"] = {"gone": [finding_to_json(f) for f in c.gone],
                              "remaining": [finding_to_json(f) for f in c.remaining],
                              "new": [finding_to_json(f) for f in c.new]}
    return json.dumps(out, indent=2) + "\n"


def render_undo(action: JournaledAction, undone: JournaledAction) -> str:
    return json.dumps({"schema": SCHEMA_ID, "undone": action_to_json(action),
                       "undo": action_to_json(undone)}, indent=2) + "\n"
