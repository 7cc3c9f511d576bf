"""The changes mitigation makes, as SQL first: what runs, what it risks, how to take it back.

Shared with ``pgcrisis top`` (its ``top/actions.py`` re-exports these builders): ``cancel``,
``terminate``, ``rollback_prepared``, ``pause_job`` and ``resume_job`` keep the signatures top
uses. The role brakes (:func:`limit_connections`, :func:`role_setting`) cannot know their undo
until the role's current values are read: they name the ``role`` and ``setting`` and the
server-writing part fills ``undo`` with :func:`role_undo` just before it changes anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from psycopg import sql

from pgcrisis.checks._text import quote_literal

#: ``Action.setting`` of a connection-limit brake (the others name a server setting)
CONNECTION_LIMIT = "connection limit"


@dataclass(frozen=True, slots=True)
class Action:
    """One change to the server, shown before it runs."""

    kind: str                 # cancel, terminate, rollback-prepared, pause-job, resume-job, …
    title: str
    sql: tuple[str, ...]
    risk: str
    undo: tuple[str, ...] = ()
    database: str | None = None  # run in this database (None: the target's)
    #: a role brake: whose value is read before the change (to write ``undo``), and which
    role: str | None = None
    setting: str | None = None

    @property
    def undoable(self) -> bool:
        """Whether it can be taken back (a role brake's undo is written when applied)."""
        return bool(self.undo) or self.role is not None


def _ident(name: str) -> str:
    return sql.Identifier(name).as_string(None)


def _pids(pids: list[int]) -> str:
    if len(pids) == 1:
        return f"pid {pids[0]}"
    more = ", …" if len(pids) > 8 else ""
    return f"{len(pids)} sessions ({', '.join(map(str, pids[:8]))}{more})"


def cancel(pids: Iterable[int]) -> Action:
    """Cancel the running statement of each session."""
    pids = sorted(set(pids))
    return Action("cancel", f"cancel the running statement of {_pids(pids)}",
                  tuple(f"SELECT pg_cancel_backend({pid})" for pid in pids),
                  "the statement fails with an error; its transaction stays open (rolled "
                  "back only if the client does so)")


def terminate(pids: Iterable[int]) -> Action:
    """End each session (its open transaction rolls back)."""
    pids = sorted(set(pids))
    return Action("terminate", f"terminate {_pids(pids)}",
                  tuple(f"SELECT pg_terminate_backend({pid})" for pid in pids),
                  "the session ends and its open transaction rolls back; the client sees "
                  "its connection closed")


def rollback_prepared(gid: str, database: str | None) -> Action:
    """Roll back a prepared transaction (only possible from its own database)."""
    return Action("rollback-prepared", f"roll back the prepared transaction {gid!r}",
                  (f"ROLLBACK PREPARED {quote_literal(gid)}",),
                  "its changes are lost for good (a transaction manager that still means to "
                  "commit it will fail)", database=database)


def pause_job(jobid: int, name: str, database: str | None) -> Action:
    """Stop a pg_cron job from running (undo: resume it)."""
    return Action("pause-job", f"pause the pg_cron job {name or jobid}",
                  (f"SELECT cron.alter_job({jobid}, active := false)",),
                  "the job stops running until resumed (a run in progress goes on)",
                  undo=(f"SELECT cron.alter_job({jobid}, active := true)",), database=database)


def resume_job(jobid: int, name: str, database: str | None) -> Action:
    """Let a paused pg_cron job run again (undo: pause it)."""
    return Action("resume-job", f"resume the pg_cron job {name or jobid}",
                  (f"SELECT cron.alter_job({jobid}, active := true)",),
                  "the job runs again at its next scheduled time",
                  undo=(f"SELECT cron.alter_job({jobid}, active := false)",), database=database)


def terminate_client(application_name: str, role: str | None) -> Action:
    """End every session of one client (by application_name, and role when known)."""
    where = f"application_name = {quote_literal(application_name)}"
    if role:
        where += f" AND usename = {quote_literal(role)}"
    return Action("terminate-client", f"terminate every session of client {application_name}",
                  ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                   f"{where} AND pid <> pg_backend_pid()",),
                  "its sessions end and their transactions roll back; the client will "
                  "reconnect unless it is stopped or braked")


def limit_connections(role: str, limit: int) -> Action:
    """``ALTER ROLE … CONNECTION LIMIT``: new connections beyond ``limit`` are refused."""
    return Action("limit-role", f"cap role {role} at {limit} connections",
                  (f"ALTER ROLE {_ident(role)} CONNECTION LIMIT {int(limit)}",),
                  "new connections of the role beyond the limit are refused (existing ones "
                  "stay; superusers are not limited)", role=role, setting=CONNECTION_LIMIT)


def role_setting(role: str, name: str, value: str) -> Action:
    """``ALTER ROLE … SET name = value`` (new sessions of the role)."""
    return Action(f"role-{name.replace('_', '-')}", f"set {name} = {value} for role {role}",
                  (f"ALTER ROLE {_ident(role)} SET {name} = {quote_literal(value)}",),
                  "applies to the role's new sessions only; existing ones keep their value",
                  role=role, setting=name)


def role_undo(role: str, setting: str, connection_limit: int,
              settings: Sequence[str]) -> tuple[str, ...]:
    """The SQL that puts a role's ``setting`` back as it was read (``settings`` as
    ``pg_db_role_setting.setconfig`` holds them: ``name=value``).

    >>> role_undo("app", CONNECTION_LIMIT, -1, [])
    ('ALTER ROLE "app" CONNECTION LIMIT -1',)
    >>> role_undo("app", "jit", -1, ["jit=on"])
    ('ALTER ROLE "app" SET jit = \\'on\\'',)
    >>> role_undo("app", "statement_timeout", -1, ["jit=on"])
    ('ALTER ROLE "app" RESET statement_timeout',)
    """
    if setting == CONNECTION_LIMIT:
        return (f"ALTER ROLE {_ident(role)} CONNECTION LIMIT {int(connection_limit)}",)
    for item in settings:
        name, _, value = item.partition("=")
        if name == setting:
            return (f"ALTER ROLE {_ident(role)} SET {setting} = {quote_literal(value)}",)
    return (f"ALTER ROLE {_ident(role)} RESET {setting}",)


def concurrent_refresh(jobs: Sequence[tuple[int, str, str]], statements: Sequence[str],
                       database: str | None) -> Action:
    """Turn the refresh of pg_cron jobs into concurrent ones: ``statements`` are the
    remedy's (a unique index where one is missing, then ``cron.alter_job(…, command := …)``);
    ``jobs`` are ``(jobid, label, command before)`` (undo: the old commands back; an index
    created stays, it harms nothing)."""
    names = ", ".join(label for _, label, _ in jobs)
    return Action("concurrent-refresh", f"refresh CONCURRENTLY in job(s) {names}",
                  tuple(statements),
                  "a concurrent refresh takes longer and needs a unique index (created "
                  "CONCURRENTLY first where missing), but readers are never locked out",
                  undo=tuple(f"SELECT cron.alter_job({jobid}, command := "
                             f"{quote_literal(command)})" for jobid, _, command in jobs),
                  database=database)
