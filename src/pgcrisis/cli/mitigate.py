"""``pgcrisis mitigate``: the playbook for the current triage; ``--apply`` runs it step by
step (asked, or the steps named), ``--undo ID`` takes one back."""

from __future__ import annotations

import sys

import click

from pgcrisis.cli.options import cpus_given, cpus_option, dsn_option, limits_from, session_options
from pgcrisis.collect.probe import ProbeOptions
from pgcrisis.config import load as load_config
from pgcrisis.dsn import resolve
from pgcrisis.errors import ConfigError
from pgcrisis.judge import TriageReport
from pgcrisis.mitigate import playbook as playbook_mod
from pgcrisis.mitigate.playbook import Step
from pgcrisis.mitigate.service import NO, QUIT, YES, Answer, apply_steps, choose
from pgcrisis.model.load import DEFAULT_WINDOW_S
from pgcrisis.presentation import mitigate_json, mitigate_text
from pgcrisis.triage import run_triage
from pgcrisis.when import MOMENT_HELP


def _is_dsn(text: str) -> bool:
    """A connection string always has ``=`` (key=value) or ``://`` (URL); a step id has
    neither."""
    return "=" in text or "://" in text


def _ask(step: Step) -> Answer:
    click.echo(mitigate_text.step_lines(0, step)[0].replace(" 0. ", "", 1), err=True)
    try:
        reply = click.prompt(f"Apply {step.id}? [y]es / [n]o / [q]uit", default="n",
                             show_default=False, err=True)
    except click.Abort:
        return QUIT  # end of input: no to everything left
    answer = reply.strip().lower()[:1]
    return {"y": YES, "q": QUIT}.get(answer, NO)


@click.command()
@click.argument("args", nargs=-1, metavar="[DSN] [STEP_ID]...")
@dsn_option
@session_options
@click.option("--store", default=None, metavar="PATH|DSN",
              help="Build the playbook from a recording (pgcrisis record) at --at: to read, "
                   "never to apply.")
@click.option("--name", "recording", default=None,
              help="Which recording of the store (needed when it holds several).")
@click.option("--at", default=None, metavar="TIME",
              help=f"The recorded moment: {MOMENT_HELP}.")
@click.option("--sample", "sample_s", type=click.FloatRange(0, 300),
              default=DEFAULT_WINDOW_S, show_default=True, metavar="SECONDS",
              help="The load window (saturated CPUs or disks, looping clients); 0: none.")
@cpus_option
@click.option("--apply", "do_apply", is_flag=True,
              help="Apply the playbook: asks before each step, or takes the STEP_IDs named.")
@click.option("--yes", is_flag=True, help="With --apply: apply every step without asking.")
@click.option("--undo", "undo_id", default=None, metavar="ID",
              help="Undo one applied action (its journal id, or a step id: its latest).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
def mitigate(args: tuple[str, ...], dsn: str | None, statement_timeout_ms: int,
             lock_timeout_ms: int, store: str | None, recording: str | None, at: str | None,
             sample_s: float, cpus: int | None, do_apply: bool, yes: bool, undo_id: str | None,
             fmt: str) -> None:
    """Turn the current triage into a playbook: what to do now, in order (root blockers
    first), each step with its SQL, expected effect, risk and undo.

    Without --apply nothing on the server is ever changed. With --apply each step is shown
    and asked for (answers come from the terminal or stdin: y, n, q), or only the STEP_IDs
    named are applied (--yes: every step). Each applied step is journaled
    ($PGCRISIS_JOURNAL) with an id; then triage runs again and shows what changed.
    `--undo ID` runs the journaled undo of one action.

    Exit status: 0 done, 1 a step failed, 3 could not run.
    """
    dsns = [a for a in args if _is_dsn(a)]
    names = [a for a in args if not _is_dsn(a)]
    if len(dsns) > 1 or (dsns and dsn and dsns[0] != dsn):
        raise ConfigError("give the DSN once: as the argument or with --dsn")
    if names and not do_apply:
        raise ConfigError(f"{names[0]!r} is not a connection string; step ids go with --apply")
    if yes and not do_apply:
        raise ConfigError("--yes goes with --apply")
    conninfo = dsns[0] if dsns else dsn
    if undo_id is not None:
        if do_apply or store or at:
            raise ConfigError("--undo runs alone: no --apply, --store or --at with it")
        _undo(undo_id, conninfo, fmt)
        return
    if store is not None or at is not None:
        if do_apply:
            raise ConfigError("--apply changes the live server; a recording's playbook is "
                              "for reading: drop --store/--at")
        if conninfo:
            raise ConfigError("--store judges a recording, not a server: drop the DSN")
        from pgcrisis.history.service import triage_past

        report = triage_past(store, recording, at=at, start=None, end=None)
    else:
        target = resolve(conninfo)
        limits = limits_from(statement_timeout_ms, lock_timeout_ms)

        config = load_config()
        count, where = cpus_given(cpus, config.cpus, config.cpus_from)
        options = ProbeOptions(cpus=count, cpus_from=where)

        def live() -> TriageReport:
            return run_triage(target, limits=limits, options=options, sample_s=sample_s)

        report = live()
        _incident_hook(report)
    book = playbook_mod.build(report)
    if not do_apply:
        sys.stdout.write(mitigate_json.render(book) if fmt == "json"
                         else mitigate_text.render_playbook(book))
        return
    steps = choose(book, names)
    if fmt == "text":
        sys.stdout.write(mitigate_text.render_playbook(book, apply_hint=False))
    ask = None if (yes or names) else _ask

    def show(statement: str) -> None:
        click.echo(f"SQL> {statement};", err=True)

    applied = apply_steps(report, steps, ask=ask, retriage=live, show=show)
    if applied.after is not None:
        _incident_hook(applied.after)
    sys.stdout.write(mitigate_json.render(book, applied) if fmt == "json"
                     else mitigate_text.render_applied(applied))
    failed = any((o.journaled is not None and not o.ok) or o.error for o in applied.outcomes)
    sys.exit(1 if failed else 0)


def _undo(ident: str, conninfo: str | None, fmt: str) -> None:
    from pgcrisis.mitigate.apply import undo

    action, undone = undo(ident, resolve(conninfo),
                          show=lambda s: click.echo(f"SQL> {s};", err=True))
    sys.stdout.write(mitigate_json.render_undo(action, undone) if fmt == "json"
                     else mitigate_text.render_undo(action, undone))
    sys.exit(0 if undone.ok else 1)


def _incident_hook(report: TriageReport) -> None:
    """An open incident collects this triage's root findings (explicit, small, never fatal
    to the command)."""
    from pgcrisis.incident.store import record_triage

    record_triage(report, by="mitigate")
