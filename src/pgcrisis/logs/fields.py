"""A record from named fields: a jsonlog object, a csvlog row, or a wrapper's own fields
(CloudNativePG, a Cloud Logging ``jsonPayload``), whether named as jsonlog or csvlog names
them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pgcrisis.errors import InputError
from pgcrisis.logs.record import LogRecord
from pgcrisis.logs.severity_words import ENGLISH
from pgcrisis.logs.timestamps import parse_time

#: csvlog's columns (PostgreSQL 13 added backend_type, 14 leader_pid and query_id)
CSV_FIELDS = ("log_time", "user_name", "database_name", "process_id", "connection_from",
              "session_id", "session_line_num", "command_tag", "session_start_time",
              "virtual_transaction_id", "transaction_id", "error_severity", "sql_state_code",
              "message", "detail", "hint", "internal_query", "internal_query_pos", "context",
              "query", "query_pos", "location", "application_name", "backend_type",
              "leader_pid", "query_id")
#: a csvlog name -> jsonlog's name for the same field
_JSON_NAME = {"log_time": "timestamp", "user_name": "user", "database_name": "dbname",
              "process_id": "pid", "connection_from": "remote_host",
              "sql_state_code": "state_code", "query": "statement"}


def as_int(value: object) -> int | None:
    """An integer field, None when empty or not one.

    >>> as_int("42"), as_int(""), as_int(None), as_int("x")
    (42, None, None, None)
    """
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def record_of(fields: Mapping[str, Any], file: str, line: int, last: int = 0) -> LogRecord:
    """The record of ``fields`` (jsonlog's or csvlog's names); a missing or bad time or
    severity raises ValueError (the caller counts it as not understood)."""
    f = {_JSON_NAME.get(k, k): v for k, v in fields.items()}
    severity = ENGLISH.get(str(f.get("error_severity") or ""))
    if severity is None:
        raise ValueError(f"no severity PostgreSQL writes: {f.get('error_severity')!r}")

    def text(name: str) -> str:
        value = f.get(name)
        return "" if value is None else str(value)

    try:
        moment = parse_time(text("timestamp"))
    except InputError as exc:
        raise ValueError(str(exc)) from None
    client = text("remote_host")
    if f.get("remote_port") not in (None, ""):
        client = f"{client}:{f['remote_port']}"
    return LogRecord(
        moment, severity, text("state_code"), text("message"),
        statement=text("statement"), application=text("application_name"),
        queryid=as_int(f.get("query_id")) or None, pid=as_int(f.get("pid")),
        user=text("user"), database=text("dbname"), client=client, detail=text("detail"),
        hint=text("hint"), context=text("context"), internal_query=text("internal_query"),
        backend_type=text("backend_type"), session=text("session_id"), file=file,
        line=line, last_line=last or line)
