"""What changes a server: run playbook steps and undos through the journaled actions.

Each step runs on a connection of its own (never the diagnostic one, which is read-only),
with short lock and statement timeouts so it cannot queue behind the very locks it is meant
to clear, in the database its object lives in. A role brake first reads the role's current
values (``collect/sql/role_settings.sql``) and journals the SQL that restores them as its
undo, before it changes anything.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from pgcrisis import journal as journaling
from pgcrisis.actions import Action, Recorded, RoleBrake, Terminate, TerminateSessions
from pgcrisis.collect.sql import query
from pgcrisis.connection import open_connection
from pgcrisis.dsn import Target, with_overrides
from pgcrisis.errors import ConfigError, ConnectError
from pgcrisis.journal import JournaledAction

APPLICATION_NAME = "pgcrisis mitigate (action)"
#: the action's session: it must not queue behind the very locks it is meant to clear
ACTION_OPTIONS = "-c lock_timeout=2000 -c statement_timeout=10000"


def _there(target: Target, database: str | None) -> Target:
    if not database:
        return target
    return Target(with_overrides(target.conninfo, dbname=database), target.source)


def _with_role_undo(conn: psycopg.Connection[Any], action: Action) -> Action:
    """``action`` with the undo that restores its role's values as they are now."""
    if not isinstance(action, RoleBrake) or not action.undo_read_at_apply:
        return action
    row = conn.execute(query("role_settings"), {"role": action.braked_role}).fetchone()
    if row is None:
        raise ConfigError(f"role {action.braked_role!r} does not exist on this server")
    limit, _superuser, settings = row
    return action.known(int(limit), list(settings or ()))


def _ending(conn: psycopg.Connection[Any], action: Action) -> tuple[int, ...]:
    """The sessions ``action`` ends: a :class:`Terminate`'s pids, or those a
    :class:`TerminateSessions` matches now."""
    if isinstance(action, Terminate):
        return action.pids
    if isinstance(action, TerminateSessions):
        return tuple(pid for (pid,) in conn.execute(action.matching.composable()))
    return ()


def run_action(action: Action, target: Target, *, step: str,
               show: Callable[[str], None] | None = None, journal: Path | None = None,
               undoes: str | None = None, ended: list[int] | None = None) -> JournaledAction:
    """Apply ``action`` (journaled) as playbook step ``step``; raises
    :class:`~pgcrisis.errors.ConnectError` when the server cannot be reached (then nothing
    ran and nothing is journaled).

    ``ended``, when given, gets the pids of the sessions the action ended if it succeeded,
    for :func:`wait_gone`: a :class:`Terminate`'s, or those a :class:`TerminateSessions`
    matched on the action's connection just before it ran.
    """
    with open_connection(_there(target, action.database), application_name=APPLICATION_NAME,
                         options=ACTION_OPTIONS) as conn:
        action = _with_role_undo(conn, action)
        ending = _ending(conn, action) if ended is not None else ()
        done = journaling.apply_action(conn, action, step=step, undoes=undoes, show=show,
                                       journal=journal)
    if ended is not None and done.ok:
        ended.extend(ending)
    return done


def undo(ident: str, target: Target, *, show: Callable[[str], None] | None = None,
         journal: Path | None = None) -> tuple[JournaledAction, JournaledAction]:
    """Run the undo of journaled action ``ident`` (an id, or a step id: its latest action);
    returns ``(the action, its undo)``. Unknown, already undone, or nothing to undo: one
    :class:`~pgcrisis.errors.ConfigError` line."""
    path = journal or journaling.journal_path()
    found = journaling.find_action(ident, path)
    if found is None:
        raise ConfigError(f"no action {ident!r} in the journal {path}")
    if found.undone_by is not None:
        raise ConfigError(f"action {found.id} ({found.title}) was already undone by "
                          f"{found.undone_by}")
    if not found.undo:
        raise ConfigError(f"action {found.id} ({found.title}) cannot be undone "
                          f"({found.kind or 'no undo'}: what it did is done)")
    if not found.done:
        raise ConfigError(f"action {found.id} ({found.title}) changed nothing (it failed "
                          "before its first statement): nothing to undo")
    there, here = _address(found.server), _address(target.conninfo)
    if there and here and there != here:
        raise ConfigError(f"action {found.id} was applied on {there[0]}:{there[1]}, not on "
                          f"{here[0]}:{here[1]}: give that server's DSN to undo it")
    back = Recorded(f"undo-{found.kind}" if found.kind else "undo", f"undo: {found.title}",
                    found.undo, found.done, database=found.database)
    return found, run_action(back, target, step=f"undo-{found.step}", show=show,
                             journal=path, undoes=found.id)


def _address(conninfo: str) -> tuple[str, str] | None:
    """Host and port of a DSN (libpq's defaults filled in), to tell two servers apart."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return None
    host = str(params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST")
               or "localhost")
    port = str(params.get("port") or os.environ.get("PGPORT") or "5432")
    return host, port


def wait_gone(target: Target, pids: list[int], timeout_s: float = 5.0) -> None:
    """Wait (briefly: polling, ``timeout_s`` at most) until terminated sessions have left
    pg_stat_activity, so the triage that follows sees the server as it now is."""
    if not pids:
        return
    deadline = time.monotonic() + timeout_s
    try:
        with open_connection(target, application_name=APPLICATION_NAME,
                             options=ACTION_OPTIONS) as conn:
            while time.monotonic() < deadline:
                if not conn.execute(query("pids_alive"), {"pids": pids}).fetchall():
                    return
                time.sleep(0.05)
    except (ConnectError, psycopg.Error):
        return  # the triage that follows says what it finds
