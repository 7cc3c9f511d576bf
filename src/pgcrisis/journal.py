"""The journal: every change pgcrisis makes to a server, shown first as SQL, then applied,
then journaled.

Diagnosis never writes. Anything that does (a remedy, a schedule change) goes through
:func:`apply`, which runs each statement in autocommit mode (so ``CREATE INDEX
CONCURRENTLY`` works), stops at the first error, and appends one JSON line per statement to
the journal (``$PGCRISIS_JOURNAL``, else ``$XDG_STATE_HOME/pgcrisis/journal.jsonl``, else
``~/.local/state/pgcrisis/journal.jsonl``) so an incident's changes can be reviewed later.

:func:`apply_action` does the same for one action of the catalogue (:mod:`pgcrisis.actions`:
``pgcrisis mitigate``, ``top``), alike ones merged or not: it gets a short id, and the
journal holds, besides the statement lines (each tagged with the id), an ``action-start``
line written *before* anything runs (its kind, title, risk, every statement and every undo
statement as text, and the action itself as the catalogue describes it: ``"action"``, kind
and objects) and an ``action-end`` line saying which statements ran, which failed and which
were not run. A process that dies midway leaves the start line and the lines of the
statements that ran, so :func:`read_actions` can still say what was done and what was not. An
action whose ``undoes`` names another marks that one undone once it succeeds. Journals
written before the ``"action"`` key existed read the same.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from pgcrisis.actions import Action, Statement
from pgcrisis.dsn import redact
from pgcrisis.errors import first_line
from pgcrisis.state import state_path


def journal_path() -> Path:
    """Where actions are journaled."""
    return state_path("PGCRISIS_JOURNAL", "journal.jsonl")


@dataclass(frozen=True, slots=True)
class Applied:
    """What happened to one statement."""

    sql: str
    ok: bool
    duration_ms: float
    error: str = ""


def apply(conn: psycopg.Connection[Any], statements: Sequence[str | Statement], *, reason: str,
          show: Callable[[str], None] | None = None, journal: Path | None = None) -> list[Applied]:
    """Show, run and journal ``statements`` in order; stop at the first failure."""
    path = journal or journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return _run(conn, statements, reason=reason, show=show, path=path, action_id=None)


def _write(path: Path, record: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _run(conn: psycopg.Connection[Any], statements: Sequence[str | Statement], *, reason: str,
         show: Callable[[str], None] | None, path: Path, action_id: str | None,
         ) -> list[Applied]:
    results: list[Applied] = []
    conn.autocommit = True
    server = redact(conn.info.dsn)
    for one in statements:
        statement = str(one)
        if show is not None:
            show(statement)
        t0 = time.perf_counter()
        try:
            conn.execute(one.composable() if isinstance(one, Statement) else statement.encode())
            result = Applied(statement, True, (time.perf_counter() - t0) * 1000)
        except psycopg.Error as exc:
            result = Applied(statement, False, (time.perf_counter() - t0) * 1000,
                             first_line(exc))
        results.append(result)
        record: dict[str, Any] = {
            "at": _now(), "server": server, "reason": reason, "sql": statement,
            "ok": result.ok, "duration_ms": round(result.duration_ms, 1), "error": result.error,
        }
        if action_id is not None:
            record["action"] = action_id
        _write(path, record)
        if not result.ok:
            break
    return results


# -- named actions (pgcrisis mitigate) --------------------------------------------------------

def new_action_id() -> str:
    """A short journal id, e.g. ``a3f9c2`` (unique enough within one journal)."""
    return secrets.token_hex(3)


@dataclass(frozen=True, slots=True)
class JournaledAction:
    """One named action as the journal tells it (see :func:`read_actions`).

    ``done`` ran, ``failed`` is the statement that failed (with ``error``), ``not_done`` never
    ran; ``finished`` is False when the journal has no end line (the process died midway:
    then ``done`` is what the statement lines show ran). ``undone_by`` is the id of the action
    that undid this one, if any. ``action`` is the action as the catalogue described it (its
    kind and objects: :meth:`pgcrisis.actions.base.Action.to_json`; empty in journals written
    before it was kept).
    """

    id: str
    step: str
    title: str
    at: datetime
    server: str
    database: str | None
    sql: tuple[str, ...]
    undo: tuple[str, ...]
    done: tuple[str, ...] = ()
    failed: str | None = None
    error: str = ""
    not_done: tuple[str, ...] = ()
    finished: bool = True
    undoes: str | None = None
    undone_by: str | None = None
    reason: str = ""
    ended_at: datetime | None = None
    kind: str = ""
    risk: str = ""
    action: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every statement ran."""
        return self.finished and self.failed is None and not self.not_done


def apply_action(conn: psycopg.Connection[Any], action: Action, *, step: str,
                 undoes: str | None = None, reason: str = "",
                 show: Callable[[str], None] | None = None, journal: Path | None = None,
                 action_id: str | None = None) -> JournaledAction:
    """Run ``action``'s statements (journaled, stopping at the first failure) as the step
    ``step`` and return what the journal now says of it."""
    path = journal or journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    ident = action_id or new_action_id()
    started = datetime.now(UTC).replace(microsecond=0)
    server = redact(conn.info.dsn)
    statements = action.statements
    why = reason or f"mitigate: {action.title}"
    _write(path, {"event": "action-start", "id": ident, "step": step, "title": action.title,
                  "kind": action.kind, "risk": action.risk, "at": started.isoformat(),
                  "server": server, "database": action.database, "reason": why,
                  "sql": [s.text for s in statements], "undo": [s.text for s in action.undo],
                  "undoes": undoes, "action": action.to_json()})
    results = _run(conn, statements, reason=why, show=show, path=path, action_id=ident)
    done = tuple(r.sql for r in results if r.ok)
    failed = next((r for r in results if not r.ok), None)
    not_done = tuple(s.text for s in statements[len(results):])
    _write(path, {"event": "action-end", "id": ident, "at": _now(),
                  "ok": failed is None and not not_done, "done": list(done),
                  "failed": failed.sql if failed else None,
                  "error": failed.error if failed else "", "not_done": list(not_done)})
    found = find_action(ident, path)
    assert found is not None
    return found


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def read_actions(journal: Path | None = None) -> list[JournaledAction]:
    """Every named action of the journal, oldest first (statement-only lines of
    :func:`apply` are not actions and are left out)."""
    path = journal or journal_path()
    if not path.exists():
        return []
    starts: dict[str, dict[str, Any]] = {}
    ends: dict[str, dict[str, Any]] = {}
    ran: dict[str, list[dict[str, Any]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash: the others still count
        if not isinstance(record, dict):
            continue
        event = record.get("event")
        if event == "action-start":
            starts[record["id"]] = record
        elif event == "action-end":
            ends[record["id"]] = record
        elif record.get("action"):
            ran.setdefault(record["action"], []).append(record)
    found: list[JournaledAction] = []
    for ident, start in starts.items():
        statements = tuple(start.get("sql", ()))
        end = ends.get(ident)
        if end is not None:
            done = tuple(end.get("done", ()))
            failed = end.get("failed")
            error = end.get("error", "")
            not_done = tuple(end.get("not_done", ()))
        else:
            lines = ran.get(ident, [])
            done = tuple(r["sql"] for r in lines if r.get("ok"))
            bad = next((r for r in lines if not r.get("ok")), None)
            failed = bad["sql"] if bad else None
            error = bad.get("error", "") if bad else "the process ended before the action did"
            not_done = statements[len(lines):]
        found.append(JournaledAction(
            id=ident, step=start.get("step", ""), title=start.get("title", ""),
            at=datetime.fromisoformat(start["at"]), server=start.get("server", ""),
            database=start.get("database"), sql=statements, undo=tuple(start.get("undo", ())),
            done=done, failed=failed, error=error, not_done=not_done,
            finished=end is not None, undoes=start.get("undoes"),
            reason=start.get("reason", ""), ended_at=_moment(end.get("at") if end else None),
            kind=start.get("kind", ""), risk=start.get("risk", ""),
            action=start.get("action") or {}))
    undone = {a.undoes: a.id for a in found if a.undoes and a.ok}
    return [_with_undone(a, undone.get(a.id)) for a in found]


def _with_undone(action: JournaledAction, by: str | None) -> JournaledAction:
    if by is None:
        return action
    return replace(action, undone_by=by)


def find_action(ident: str, journal: Path | None = None) -> JournaledAction | None:
    """The action with journal id ``ident``; else the latest not yet undone action of the
    playbook step ``ident`` (``pause-job-3``); None if there is neither."""
    every = read_actions(journal)
    for action in every:
        if action.id == ident:
            return action
    steps = [a for a in every if a.step == ident and a.undoes is None and a.undone_by is None]
    return steps[-1] if steps else None
