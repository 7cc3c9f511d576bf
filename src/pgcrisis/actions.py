"""Explicit actions that change a server: shown first as SQL, then applied, then journaled.

Diagnosis never writes. Anything that does (a remedy, a schedule change) goes through
:func:`apply`, which runs each statement in autocommit mode (so ``CREATE INDEX
CONCURRENTLY`` works), stops at the first error, and appends one JSON line per statement to
the journal (``$PGCRISIS_JOURNAL``, else ``$XDG_STATE_HOME/pgcrisis/journal.jsonl``, else
``~/.local/state/pgcrisis/journal.jsonl``) so an incident's changes can be reviewed later.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from pgcrisis.dsn import redact
from pgcrisis.errors import first_line


def journal_path() -> Path:
    """Where actions are journaled."""
    explicit = os.environ.get("PGCRISIS_JOURNAL")
    if explicit:
        return Path(explicit)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "pgcrisis" / "journal.jsonl"


@dataclass(frozen=True, slots=True)
class Applied:
    """What happened to one statement."""

    sql: str
    ok: bool
    duration_ms: float
    error: str = ""


def apply(conn: psycopg.Connection[Any], statements: Sequence[str], *, reason: str,
          show: Callable[[str], None] | None = None, journal: Path | None = None) -> list[Applied]:
    """Show, run and journal ``statements`` in order; stop at the first failure."""
    path = journal or journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    results: list[Applied] = []
    conn.autocommit = True
    server = redact(conn.info.dsn)
    for statement in statements:
        if show is not None:
            show(statement)
        t0 = time.perf_counter()
        try:
            conn.execute(statement.encode())
            result = Applied(statement, True, (time.perf_counter() - t0) * 1000)
        except psycopg.Error as exc:
            result = Applied(statement, False, (time.perf_counter() - t0) * 1000,
                             first_line(exc))
        results.append(result)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({
                "at": datetime.now(UTC).isoformat(timespec="seconds"), "server": server,
                "reason": reason, "sql": statement, "ok": result.ok,
                "duration_ms": round(result.duration_ms, 1), "error": result.error,
            }) + "\n")
        if not result.ok:
            break
    return results
