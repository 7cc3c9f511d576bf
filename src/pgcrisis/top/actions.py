"""The actions ``top`` offers, as SQL first: cancel, terminate, roll back a prepared
transaction, pause or resume a pg_cron job.

Each :class:`Action` says what it runs, what it risks and how to take it back where that is
possible; :func:`run` applies it through the journaled :func:`pgcrisis.actions.apply`, on a
connection of its own (never the diagnostic one, which is read-only) with short timeouts, in
the database the object lives in (a prepared transaction can only be rolled back from its own
database, pg_cron's jobs live in ``cron.database_name``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pgcrisis import actions
from pgcrisis.checks._text import quote_literal
from pgcrisis.connection import open_connection
from pgcrisis.dsn import Target, with_overrides

APPLICATION_NAME = "pgcrisis top (action)"
#: the action's session: it must not queue behind the very locks it is meant to clear
ACTION_OPTIONS = "-c lock_timeout=2000 -c statement_timeout=10000"


@dataclass(frozen=True, slots=True)
class Action:
    """One change to the server, shown before it runs."""

    kind: str                 # cancel, terminate, rollback-prepared, pause-job, resume-job
    title: str
    sql: tuple[str, ...]
    risk: str
    undo: tuple[str, ...] = ()
    database: str | None = None  # run in this database (None: the target's)


def cancel(pids: Iterable[int]) -> Action:
    pids = sorted(set(pids))
    return Action("cancel", f"cancel the running statement of {_pids(pids)}",
                  tuple(f"SELECT pg_cancel_backend({pid})" for pid in pids),
                  "the statement fails with an error; its transaction stays open (rolled "
                  "back only if the client does so)")


def terminate(pids: Iterable[int]) -> Action:
    pids = sorted(set(pids))
    return Action("terminate", f"terminate {_pids(pids)}",
                  tuple(f"SELECT pg_terminate_backend({pid})" for pid in pids),
                  "the session ends and its open transaction rolls back; the client sees "
                  "its connection closed")


def rollback_prepared(gid: str, database: str | None) -> Action:
    return Action("rollback-prepared", f"roll back the prepared transaction {gid!r}",
                  (f"ROLLBACK PREPARED {quote_literal(gid)}",),
                  "its changes are lost for good (a transaction manager that still means to "
                  "commit it will fail)", database=database)


def pause_job(jobid: int, name: str, database: str | None) -> Action:
    return Action("pause-job", f"pause the pg_cron job {name or jobid}",
                  (f"SELECT cron.alter_job({jobid}, active := false)",),
                  "the job stops running until resumed (a run in progress goes on)",
                  undo=(f"SELECT cron.alter_job({jobid}, active := true)",), database=database)


def resume_job(jobid: int, name: str, database: str | None) -> Action:
    return Action("resume-job", f"resume the pg_cron job {name or jobid}",
                  (f"SELECT cron.alter_job({jobid}, active := true)",),
                  "the job runs again at its next scheduled time",
                  undo=(f"SELECT cron.alter_job({jobid}, active := false)",), database=database)


def _pids(pids: list[int]) -> str:
    if len(pids) == 1:
        return f"pid {pids[0]}"
    more = ", …" if len(pids) > 8 else ""
    return f"{len(pids)} sessions ({', '.join(map(str, pids[:8]))}{more})"


def run(action: Action, target: Target) -> list[actions.Applied]:
    """Apply ``action`` (journaled); raises :class:`~pgcrisis.errors.ConnectError` when the
    server cannot be reached."""
    conninfo = target.conninfo
    if action.database:
        conninfo = with_overrides(conninfo, dbname=action.database)
    there = Target(conninfo, target.source)
    with open_connection(there, application_name=APPLICATION_NAME,
                         options=ACTION_OPTIONS) as conn:
        return actions.apply(conn, action.sql, reason=f"top: {action.title}")
