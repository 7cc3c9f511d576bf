"""jsonlog (PostgreSQL 15+): one JSON object a line, its fields named; a line that is not
one is counted as not understood."""

from __future__ import annotations

import json

from pgcrisis.logs.fields import record_of
from pgcrisis.logs.parser import Parser
from pgcrisis.logs.record import Line


class JsonlogParser(Parser):
    """jsonlog lines."""

    format = "jsonlog"

    def feed(self, text: str, number: int, line: Line | None = None) -> None:
        if not text:
            return
        try:
            obj = json.loads(text)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
            self.out.append(record_of(obj, self.file, number))
        except ValueError:  # json.JSONDecodeError is one
            self.not_understood(number, text)
