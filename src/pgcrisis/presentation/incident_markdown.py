"""An incident in Markdown: the customer status update and the post-mortem draft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pgcrisis import durations
from pgcrisis.incident.writeup import STATE_WORDS, PostMortem, StatusUpdate
from pgcrisis.quantities import figure


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return "not yet"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(delta: timedelta | None) -> str:
    return durations.words(None if delta is None else int(delta.total_seconds()), "not yet")


def _peak_mean(peak: float, mean: float, unit: str) -> str:
    return (f"{figure(peak, unit, precise_below=10)} / "
            f"{figure(mean, unit, precise_below=10)}")


def render_status(update: StatusUpdate) -> str:
    """The update for customers: state, impact, what users notice, next update."""
    lines = [f"## {update.title}: {update.state.capitalize()}", "",
             f"*Posted {_utc(update.at)}*", "",
             f"**Status:** {update.state.capitalize()}. {STATE_WORDS[update.state]}.", "",
             f"**Impact:** {update.impact.capitalize()}.", "",
             "**What you may notice:**", ""]
    lines += [f"- {n[:1].upper()}{n[1:]}." for n in update.noticed]
    lines.append("")
    if update.next_update is not None:
        lines += [f"**Next update:** by {_utc(update.next_update)}.", ""]
    if update.internal:
        lines += ["**Internal (not for customers):**", ""]
        lines += [f"- {t}" for t in update.internal]
        lines.append("")
    return "\n".join(lines)


def render_postmortem(pm: PostMortem) -> str:
    """The post-mortem draft in the usual shape; what only people know is left to fill."""
    m = pm.milestones
    inc = pm.incident
    first = pm.roots[0] if pm.roots else None
    out = [f"# Post-mortem (draft): {inc.title}", "",
           f"Incident `{inc.id}`. Times are UTC. Drafted by pgcrisis from the incident file, "
           "the actions journal" + (" and the recording" if pm.window_line else "") + ".", "",
           "## Summary", "",
           f"From {_utc(m.began)} to {_utc(m.resolved)}"
           + (f": {first.title}." if first else "."),
           "", f"- Time to detect: {_span(m.time_to_detect)}",
           f"- Time to mitigate: {_span(m.time_to_mitigate)}",
           f"- Time to resolve: {_span(m.time_to_resolve)}", "",
           "## Impact", "", f"- Impact stated in updates: {pm.impact}"]
    out += [f"- Users noticed: {n}" for n in pm.noticed]
    if pm.first_findings is not None:
        out.append(f"- Findings at the first triage: {pm.first_findings}; at the last: "
                   f"{pm.last_findings}")
    out += ["- _Users and requests affected: (fill in)_", "", "## Root causes", ""]
    if not pm.roots:
        out.append("_No triage ran during the incident: (fill in)_")
    for r in pm.roots:
        out.append(f"- **{r.title}** (`{r.code}`, {r.severity}). {r.remedy}")
    out += ["", "## Trigger", "", "_What set it off (a deploy, a job, traffic): (fill in)_"]
    if first:
        out.append(f"First root cause seen: {first.title}.")
    out += ["", "## Detection", "",
            f"Detected {_utc(m.detected)} by pgcrisis triage, {_span(m.time_to_detect)} "
            "after it began." if m.detected else "Not detected by a triage run.", "",
            "## Resolution", ""]
    if not pm.actions:
        out.append("No action was applied through pgcrisis.")
    for a in pm.actions:
        state = ("done" if a.ok else f"FAILED ({a.error})")
        undone = f", undone by {a.undone_by}" if a.undone_by else ""
        out.append(f"- {_utc(a.at)}: {a.title} (`{a.step}`, {a.id}): {state}{undone}")
        out += [f"  - `{s}`" for s in a.done]
        if a.failed:
            out.append(f"  - failed: `{a.failed}`")
        out += [f"  - not run: `{s}`" for s in a.not_done]
    out.append(f"\nResolved {_utc(m.resolved)} (time to resolve: {_span(m.time_to_resolve)}).")
    out += ["", "## Timeline", "", "| Time (UTC) | Event |", "|---|---|"]
    out += [f"| {_utc(at)} | {text} |" for at, text in _timeline(pm)]
    if pm.window_line:
        out += ["", "## Before and after (from the recording)", "", pm.window_line, ""]
        out += [f"- [{f.code}] {f.title}" for f in pm.window] or ["- no finding in the window"]
        if pm.figures and pm.pivot is not None:
            step = "minute" if pm.step_s == 60 else f"{pm.step_s}-second step"
            out += ["", f"Before and after the mitigation at {_utc(pm.pivot)}, from the "
                        f"recorded samples (highest / mean over the {step}s, each {step} "
                        "counted at its worst sample):", "",
                    "| | before | after |", "|---|---|---|"]
            out += [f"| {r.label} | {_peak_mean(r.before_peak, r.before_mean, r.unit)} | "
                    f"{_peak_mean(r.after_peak, r.after_mean, r.unit)} |" for r in pm.figures]
    out += ["", "## What went well", "", "_(fill in)_", "", "## What went badly", "",
            "_(fill in)_", "", "## Action items", ""]
    if not pm.action_items:
        out.append("_(fill in)_")
    for item in pm.action_items:
        done = (f"; mitigated meanwhile by {', '.join(item.mitigated_by)}"
                if item.mitigated_by else "")
        out.append(f"- [ ] {item.summary} (from `{item.from_code}`{done})")
        out += [f"  - not yet run: `{s}`" for s in item.sql]
    return "\n".join(out) + "\n"


def _timeline(pm: PostMortem) -> list[tuple[datetime, str]]:
    rows: list[tuple[datetime, str]] = []
    m = pm.milestones
    if m.began != m.started:
        rows.append((m.began, "impact began"))
    for e in pm.incident.events:
        if e.kind == "started":
            rows.append((e.at, f"incident opened: {pm.incident.title}"))
        elif e.kind == "note":
            rows.append((e.at, f"note: {e.data.get('text', '')}"))
        elif e.kind == "triage":
            roots = "; ".join(r.title for r in e.roots) or "no root finding"
            rows.append((e.at, f"{e.data.get('by', 'triage')}: {roots}"))
        elif e.kind == "status":
            rows.append((e.at, f"status update: {e.data.get('state')}, impact "
                               f"{e.data.get('impact')}"))
        elif e.kind == "closed":
            rows.append((e.at, "incident closed (resolved)"))
    for a in pm.actions:
        rows.append((a.at, f"action {a.id}: {a.title} ({'done' if a.ok else 'failed'})"))
    return [(at, text.replace("|", "\\|")) for at, text in sorted(rows, key=lambda r: r[0])]
