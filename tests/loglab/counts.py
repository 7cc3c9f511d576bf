"""Independent counts of a log's records, to check the reader against: a csvlog file read with
Python's :mod:`csv`, a jsonlog file with :mod:`json`. Both formats carry the severity and the
SQLSTATE in fields of their own, so these counts share no code with the reader's.

A server writing in another language writes translated severities in both (``ERREUR``);
:func:`english` maps them back with the server's own message catalogue.
"""

from __future__ import annotations

import csv
import gettext
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

#: csvlog's columns (PostgreSQL 13+: backend_type; 14+: leader_pid, query_id)
CSV_SEVERITY, CSV_SQLSTATE, CSV_MESSAGE, CSV_QUERY = 11, 12, 13, 19
SEVERITIES = ("DEBUG", "LOG", "INFO", "NOTICE", "WARNING", "ERROR", "FATAL", "PANIC")
ERRORS = ("ERROR", "FATAL", "PANIC")


@dataclass
class Counts:
    """Records per severity, errors (ERROR/FATAL/PANIC) per (severity, SQLSTATE), and the
    messages and statements seen (for finding an event by its text)."""

    severities: Counter[str] = field(default_factory=Counter)
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    sqlstates: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(self.severities.values())

    def add(self, severity: str, sqlstate: str, message: str, statement: str) -> None:
        self.severities[severity] += 1
        self.sqlstates[sqlstate] += 1
        if severity in ERRORS:
            self.errors[(severity, sqlstate)] += 1
        self.messages.append(message)
        self.statements.append(statement)

    def with_text(self, text: str) -> int:
        """How many messages contain ``text``."""
        return sum(text in message for message in self.messages)


def english(catalogue: gettext.NullTranslations | None) -> dict[str, str]:
    """Translated severity -> English, from the server's catalogue (identity without one)."""
    table = {name: name for name in SEVERITIES}
    if catalogue is not None:
        table.update({catalogue.gettext(name): name for name in SEVERITIES})
    return table


def csv_counts(path: Path, translated: dict[str, str] | None = None) -> Counts:
    """The records of a csvlog file, one per row (rows may span lines: :mod:`csv` joins them)."""
    names = translated or english(None)
    counts = Counts()
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            counts.add(names[row[CSV_SEVERITY]], row[CSV_SQLSTATE], row[CSV_MESSAGE],
                       row[CSV_QUERY])
    return counts


def csv_rows(path: Path) -> list[list[str]]:
    """The rows of a csvlog file, as :mod:`csv` reads them."""
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def json_counts(path: Path, translated: dict[str, str] | None = None) -> Counts:
    """The records of a jsonlog file, one JSON object a line."""
    names = translated or english(None)
    counts = Counts()
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            counts.add(names[record["error_severity"]], record.get("state_code", ""),
                       record.get("message", ""), record.get("statement", ""))
    return counts
