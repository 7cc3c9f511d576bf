"""The format of the server's own lines (what ``log_destination`` wrote), recognised from
their content, never from a file's name: a csvlog named ``postgresql.csv.log`` or a jsonlog
on stdin is read as what it is.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence

from pgcrisis.logs.record import Line

#: keys only jsonlog has (csvlog's fields are named log_time, process_id, sql_state_code...)
JSONLOG_KEYS = frozenset({"timestamp", "pid", "dbname", "state_code", "vxid", "txid",
                          "line_num", "session_start", "statement", "ps"})
CSVLOG_KEYS = frozenset({"log_time", "process_id", "sql_state_code", "database_name",
                         "user_name", "session_line_num"})
#: csvlog's first field: the time with milliseconds and the zone's abbreviation
CSV_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? ?\S*$")
#: the fewest fields a csvlog line has (PostgreSQL 9.0 wrote 23; 13 and later 24 to 26)
CSV_FIELDS = 22
#: how a csvlog record's first line starts (a sample may begin inside a record)
CSV_START = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[^,]*,")


def _from_fields(fields: dict[str, object]) -> str:
    if CSVLOG_KEYS & fields.keys():
        return "csvlog"
    return "jsonlog" if JSONLOG_KEYS & fields.keys() or "error_severity" in fields else ""


def _is_jsonlog(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict) and "error_severity" in value and (
        "timestamp" in value or "message" in value)


def _csv_records(texts: Sequence[str]) -> tuple[int, int]:
    """(records read, records that are csvlog's) among ``texts``, a record's quoted
    newlines followed onto the lines after it."""
    seen = fitting = 0
    try:
        for row in csv.reader(texts):
            if not row:
                continue
            seen += 1
            fitting += len(row) >= CSV_FIELDS and CSV_TIME.match(row[0]) is not None
    except csv.Error:
        pass
    return seen, fitting


#: which format is read when one directory holds several (a server writing to several
#: destinations at once writes every message in each): the one with most fields first
PREFERRED = ("jsonlog", "csvlog", "stderr")


def payload_format(sample: Sequence[Line]) -> str:
    """``jsonlog``, ``csvlog`` or ``stderr``: the format of the server's lines in ``sample``
    (the first lines, wrapper removed); ``""`` when nothing there is readable text.

    >>> payload_format([Line('{"timestamp":"2026-12-06 08:00:01.000 UTC",'
    ...                      '"error_severity":"LOG","message":"ready"}', 1, "f")])
    'jsonlog'
    >>> payload_format([Line("2026-12-06 08:00:01 UTC [42] LOG:  ready", 1, "f")])
    'stderr'
    """
    for line in sample:
        if line.fields:
            return _from_fields(line.fields) or "jsonlog"
    texts = [line.text for line in sample if line.text.strip()]
    if not texts:
        return ""
    objects = [t for t in texts[:20] if t.lstrip().startswith("{")]
    if objects and sum(map(_is_jsonlog, objects)) * 2 >= len(objects):
        return "jsonlog"
    start = next((i for i, t in enumerate(texts[:50]) if CSV_START.match(t)), None)
    seen, fitting = _csv_records(texts[start:]) if start is not None else (0, 0)
    if fitting and fitting * 2 >= seen:
        return "csvlog"
    readable = sum(1 for t in texts if t.isprintable() or "\t" in t)
    return "stderr" if readable * 2 >= len(texts) else ""
