"""``pgcrisis incident``: start, note, status, close, postmortem."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from pgcrisis import durations
from pgcrisis.history.timeline import Minute
from pgcrisis.incident import store
from pgcrisis.incident.model import IMPACTS, STATES, check_impact, check_state, in_window
from pgcrisis.incident.writeup import postmortem as build_postmortem
from pgcrisis.incident.writeup import status_update
from pgcrisis.journal import read_actions
from pgcrisis.model.findings import Finding
from pgcrisis.presentation.incident_markdown import render_postmortem, render_status
from pgcrisis.when import MOMENT_HELP, parse_moment, shown


@click.group()
def incident() -> None:
    """Keep an incident's file (notes, triage findings, actions; UTC times) and write the
    customer update and the post-mortem draft.

    Files: $PGCRISIS_INCIDENT_DIR, else ~/.local/state/pgcrisis/incidents/. While an
    incident is open, every `pgcrisis triage` and `pgcrisis mitigate` run adds its root
    findings to it; actions come from the journal ($PGCRISIS_JOURNAL) by time.
    """


@incident.command()
@click.argument("title")
@click.option("--since", default=None, metavar="TIME",
              help=f"When the impact began, if before now: {MOMENT_HELP}.")
def start(title: str, since: str | None) -> None:
    """Open an incident called TITLE."""
    began = parse_moment(since) if since else None
    ident = store.start(title, began)
    click.echo(f"incident {ident} opened at {shown(datetime.now(UTC))}")


@incident.command()
@click.argument("text")
def note(text: str) -> None:
    """Add a note (what you saw, decided, tried)."""
    if not text.strip():
        from pgcrisis.errors import ConfigError

        raise ConfigError("the note is empty")
    event = store.append(store.open_current(), "note", text=text.strip())
    click.echo(f"noted at {shown(event.at)}")


@incident.command()
@click.option("--state", default="investigating", show_default=True,
              help="One of: " + ", ".join(STATES) + ".")
@click.option("--impact", default="minor", show_default=True,
              help="One of: " + ", ".join(IMPACTS) + ".")
@click.option("--notice", "noticed", multiple=True, metavar="TEXT",
              help="What users notice, in plain words (repeatable; default: from the root "
                   "findings).")
@click.option("--next", "next_in", default="30m", show_default=True, metavar="DURATION",
              help="When the next update comes (e.g. 30m, 1h).")
@click.option("--internal", is_flag=True,
              help="Also list the root findings (internal names: not for customers).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Write the Markdown here (default: stdout).")
def status(state: str, impact: str, noticed: tuple[str, ...], next_in: str, internal: bool,
           output: Path | None) -> None:
    """Write the customer status update (Markdown; no SQL, no internal names) and record it."""
    check_state(state)
    check_impact(impact)
    delay = durations.parse(next_in)
    ident = store.open_current()
    incident_now = store.load(ident)
    update = status_update(incident_now, state=state, impact=impact,
                           at=datetime.now(UTC).replace(microsecond=0), noticed=noticed,
                           next_in=delay, internal=internal)
    store.append(ident, "status", state=state, impact=impact, noticed=list(update.noticed))
    _write(render_status(update), output)


@incident.command()
def close() -> None:
    """Close the open incident (resolved)."""
    ident = store.open_current()
    event = store.close(ident)
    click.echo(f"incident {ident} closed at {shown(event.at)}; "
               "draft the write-up: pgcrisis incident postmortem")


@incident.command()
@click.option("--id", "ident", default=None, help="Which incident (default: the open one, "
              "else the latest).")
@click.option("--store", "store_at", default=None, metavar="PATH|DSN",
              help="A recording that covers the incident: its window findings go in.")
@click.option("--name", "recording", default=None, help="Which recording of the store.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Write the Markdown here (default: stdout).")
def postmortem(ident: str | None, store_at: str | None, recording: str | None,
               output: Path | None) -> None:
    """Write the post-mortem draft (Markdown)."""
    inc = store.load(ident)
    actions = in_window(read_actions(), inc.started, inc.closed)
    window: tuple[Finding, ...] = ()
    line = ""
    minutes: list[Minute] = []
    step = 60
    if store_at is not None:
        from pgcrisis.history.service import triage_past

        end = inc.closed or datetime.now(UTC)
        report = triage_past(store_at, recording, at=None, start=inc.began.isoformat(),
                             end=end.isoformat())
        window = report.findings
        line = report.recording.line if report.recording else ""
        minutes, step = _minutes(store_at, recording, inc.began, end)
    _write(render_postmortem(build_postmortem(inc, actions, window=window, window_line=line,
                                              minutes=minutes, step_s=step)), output)


def _minutes(spec: str, name: str | None, start: datetime,
             end: datetime) -> tuple[list[Minute], int]:
    """The recording's picture of the incident (for before/after figures) and its step in
    seconds: a minute, or finer for an incident the recording covers for under half an hour
    (about 30 steps), so a short one still has a before and an after."""
    from pgcrisis.history.service import recording_name
    from pgcrisis.history.timeline import per_minute
    from pgcrisis.store import open_store

    recorded = open_store(spec, create=False)
    try:
        name = recording_name(recorded, name)
        cover = recorded.coverage(name)
        if cover is None:
            return [], 60
        start, end = max(start, cover[0]), min(end, cover[1])
        span = (end - start).total_seconds()
        step = 60 if span >= 1800 else max(1, int(span // 30))
        return per_minute(list(recorded.snapshots(name, start, end)), step), step
    finally:
        recorded.close()


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"written to {output}")
