"""The actions ``top`` offers: cancel, terminate, roll back a prepared transaction, pause or
resume a pg_cron job.

They are :mod:`pgcrisis.mitigate`'s own (one home for every change pgcrisis makes to a
server): each :class:`Action` says what SQL it runs, what it risks and how to take it back;
:func:`run` applies it on a session of its own with short timeouts, in the database the object
lives in, journaled with an id so ``pgcrisis mitigate --undo ID`` can take it back.
"""

from __future__ import annotations

from pgcrisis.dsn import Target
from pgcrisis.journal import JournaledAction
from pgcrisis.mitigate.actions import (
    Action,
    cancel,
    pause_job,
    resume_job,
    rollback_prepared,
    terminate,
)
from pgcrisis.mitigate.apply import run_action

__all__ = ["Action", "cancel", "pause_job", "resume_job", "rollback_prepared", "run",
           "terminate"]


def run(action: Action, target: Target) -> JournaledAction:
    """Apply ``action`` (journaled as step ``top-<kind>``); raises
    :class:`~pgcrisis.errors.ConnectError` when the server cannot be reached."""
    return run_action(action, target, step=f"top-{action.kind}")
