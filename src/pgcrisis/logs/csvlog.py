"""csvlog: one CSV row a record, a field may hold newlines (a row then spans lines). A row is
read once its quotes are balanced, so a row still being written waits for its rest; a row
with the wrong number of columns (22 to 26, by server version) or a bad field is counted as
not understood."""

from __future__ import annotations

import csv

from pgcrisis.logs.fields import CSV_FIELDS, record_of
from pgcrisis.logs.parser import Parser
from pgcrisis.logs.record import Line

#: the columns of csvlog from PostgreSQL 9.0 (22) to 14+ (26)
COLUMNS = range(22, 27)


class CsvlogParser(Parser):
    """csvlog lines."""

    format = "csvlog"

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[str] = []
        self._quotes = 0
        self._start = 0

    def feed(self, text: str, number: int, line: Line | None = None) -> None:
        if not self._rows:
            if not text:
                return
            self._start = number
        self._rows.append(text)
        self._quotes += text.count('"')
        if self._quotes % 2:
            return  # inside a quoted field: the row goes on on the next line
        joined = "\n".join(self._rows)
        self._rows.clear()
        self._quotes = 0
        try:
            row = next(csv.reader([joined]))
            if len(row) not in COLUMNS:
                raise ValueError(f"{len(row)} columns")
            self.out.append(record_of(dict(zip(CSV_FIELDS, row, strict=False)), self.file,
                                      self._start, number))
        except (ValueError, csv.Error, StopIteration):
            self.not_understood(self._start, joined)

    @property
    def waiting(self) -> bool:
        """A row is cut mid-way (its rest not written yet)."""
        return bool(self._rows)

    def flush(self) -> None:
        """At the end of the input a row still open was cut: not understood."""
        if self._rows:
            self.not_understood(self._start, "\n".join(self._rows))
            self._rows.clear()
            self._quotes = 0
