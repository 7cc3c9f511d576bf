"""The action catalogue: every change pgcrisis can make to a server, built once (pure).

An action is a typed value (:class:`~pgcrisis.actions.base.Action`): its kind and its
objects, the statements it runs and those that undo it (each a
:class:`~pgcrisis.actions.statement.Statement`, composed with ``psycopg.sql``), its title,
its risk and a stable id. Checks put them in a finding's remedy (the contract's remedy SQL
is their text); ``pgcrisis mitigate`` orders them, merges alike ones and runs them; ``top``
runs the same objects; the journal (:mod:`pgcrisis.journal`) stores them. Nothing here
connects, and importing it loads no driver (psycopg is imported only to compose a statement
that is about to run).

Kinds, by what they act on:

- sessions (:mod:`.sessions`): :class:`Cancel`, :class:`Terminate`,
  :class:`TerminateSessions` (a client's, its idle ones, or every idle client backend's),
  :class:`RollbackPrepared`, :class:`DropSlot`;
- pg_cron jobs (:mod:`.jobs`): :class:`PauseJobs`, :class:`ResumeJobs`,
  :class:`RescheduleJob`, :class:`SetJobCommand`, :class:`RefreshConcurrentlyInJobs`;
- settings (:mod:`.settings`): :class:`SetSetting` (server, database or role),
  :class:`CapConnections` (a role's CONNECTION LIMIT), :class:`TableOption`;
- tables, indexes, views (:mod:`.maintenance`): :class:`CreateIndex`, :class:`DropIndex`,
  :class:`Vacuum`, :class:`Analyze`, :class:`AnalyzeInStages`, :class:`RefreshMatview`,
  :class:`Widen`;
- :class:`Recorded`: statements as the journal holds them (an undo).

To add one: a frozen dataclass subclass of :class:`Action` in the module of what it acts on,
with its ``KIND``, ``statements`` (and ``undo``), ``title``, ``risk`` and ``ident``; set
``MERGE`` and write ``_merged`` when alike ones are one decision.
"""

from pgcrisis.actions.base import Action, Recorded, covers, merged, remedy_sql, slug
from pgcrisis.actions.jobs import (
    Job,
    PauseJobs,
    RefreshConcurrentlyInJobs,
    RescheduleJob,
    ResumeJobs,
    SetJobCommand,
)
from pgcrisis.actions.maintenance import (
    Analyze,
    AnalyzeInStages,
    CreateIndex,
    DropIndex,
    RefreshMatview,
    Vacuum,
    Widen,
)
from pgcrisis.actions.sessions import (
    Cancel,
    DropSlot,
    RollbackPrepared,
    Terminate,
    TerminateSessions,
)
from pgcrisis.actions.settings import CapConnections, RoleBrake, SetSetting, TableOption
from pgcrisis.actions.statement import Statement

__all__ = [
    "Action", "Analyze", "AnalyzeInStages", "Cancel", "CapConnections", "CreateIndex",
    "DropIndex", "DropSlot", "Job", "PauseJobs", "Recorded", "RefreshConcurrentlyInJobs",
    "RefreshMatview", "RescheduleJob", "ResumeJobs", "RoleBrake", "RollbackPrepared",
    "SetJobCommand", "SetSetting", "Statement", "TableOption", "Terminate", "TerminateSessions",
    "Vacuum", "Widen", "covers", "merged", "remedy_sql", "slug",
]
