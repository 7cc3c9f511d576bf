"""``pgcrisis mitigate`` as plain text: the playbook, each applied step, what changed."""

from __future__ import annotations

from pgcrisis.actions import RoleBrake
from pgcrisis.journal import JournaledAction
from pgcrisis.mitigate.playbook import Playbook, Step
from pgcrisis.mitigate.service import Applied, Outcome
from pgcrisis.model.findings import Finding
from pgcrisis.when import shown


def _indent(lines: list[str], prefix: str = "      ") -> list[str]:
    return [prefix + line for line in lines]


def step_lines(number: int, step: Step) -> list[str]:
    """One step: id and title, then what it does, risks and how to take it back."""
    a = step.action
    if a.undo:
        undo = "; ".join(s.text for s in a.undo)
    elif isinstance(a, RoleBrake) and a.undo_read_at_apply:
        undo = f"restores the role's {a.restores} as read just before the change"
    else:
        undo = "none (cannot be taken back)"
    lines = [f"{number:>2}. {step.id}  {a.title}",
             f"      effect: {step.effect}",
             f"      risk:   {a.risk}",
             f"      undo:   {undo}",
             f"      for:    {'; '.join(step.findings)}"]
    where = f"  -- in database {a.database}" if a.database else ""
    lines += _indent([s + (";" if not s.endswith(";") else "") + where for s in a.sql],
                     "      SQL> ")
    return lines


def render_playbook(playbook: Playbook, *, apply_hint: bool = True) -> str:
    """The playbook as text."""
    out = [f"Playbook for {playbook.source}"]
    if not playbook.steps:
        out.append("Nothing to do now: no finding has an immediate, safe action.")
    for n, step in enumerate(playbook.steps, 1):
        out.append("")
        out += step_lines(n, step)
    if playbook.later:
        out += ["", "Later (lasting fixes, for people to plan):"]
        out += [f"  - [{item.code}] {item.title}: {item.remedy}" for item in playbook.later]
    if apply_hint and playbook.steps and playbook.live:
        out += ["", "Nothing has been changed. To apply: pgcrisis mitigate --apply "
                "(asks before each step), or name the steps: pgcrisis mitigate --apply "
                + " ".join(s.id for s in playbook.steps[:2])]
    return "\n".join(out) + "\n"


def action_lines(action: JournaledAction) -> list[str]:
    """One journaled action: applied, failed midway, or not finished."""
    if action.ok:
        head = f"applied {action.step} as {action.id}"
        if action.undo:
            head += f" (undo: pgcrisis mitigate --undo {action.id})"
        return [head]
    lines = [f"FAILED {action.step} ({action.id}): {action.error}"]
    lines += [f"  done:     {s}" for s in action.done]
    if action.failed:
        lines.append(f"  failed:   {action.failed}")
    lines += [f"  not done: {s}" for s in action.not_done]
    return lines


def _outcome(o: Outcome) -> list[str]:
    if o.skipped:
        return [f"skipped {o.step.id}"]
    if o.journaled is None:
        return [f"could not apply {o.step.id}: {o.error}"]
    return action_lines(o.journaled)


def _finding(f: Finding) -> str:
    return f"  - [{f.code}] {f.title}"


def render_applied(applied: Applied) -> str:
    """Each step's fate, then the findings gone, remaining and new."""
    out: list[str] = []
    for o in applied.outcomes:
        out += _outcome(o)
    if applied.changes is None:
        out.append("Nothing was applied; the server is unchanged.")
        return "\n".join(out) + "\n"
    c = applied.changes
    at = shown(applied.after.started_at) if applied.after else ""
    out += ["", f"Triage again at {at}:"]
    out += [f"Gone ({len(c.gone)}):"] + [_finding(f) for f in c.gone]
    out += [f"Remaining ({len(c.remaining)}):"] + [_finding(f) for f in c.remaining]
    if c.new:
        out += [f"New ({len(c.new)}):"] + [_finding(f) for f in c.new]
    return "\n".join(out) + "\n"


def render_undo(action: JournaledAction, undone: JournaledAction) -> str:
    """The result of ``--undo``."""
    if undone.ok:
        return (f"undid {action.id} ({action.title}) with {undone.id}: "
                + "; ".join(undone.done) + "\n")
    return "\n".join(action_lines(undone)) + "\n"
