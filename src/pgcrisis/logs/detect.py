"""The server's format of a log's lines, recognised from their content.

STUB: filled by the transport work (this minimal version only looks at the first line).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence

from pgcrisis.logs.record import Line


def payload_format(sample: Sequence[Line]) -> str:
    """``jsonlog``, ``csvlog``, ``stderr``, or ``""`` (not recognised) for ``sample``."""
    texts = [line.text for line in sample if line.text.strip()]
    if any(line.fields for line in sample):
        return "jsonlog"
    if not texts:
        return ""
    first = texts[0]
    if first.startswith("{") and '"error_severity"' in first:
        return "jsonlog"
    row = next(csv.reader([first]), [])
    if len(row) >= 12 and row[0][:4].isdigit() and row[3].isdigit():  # time, ..., pid
        return "csvlog"
    if "\x00" in first:
        return ""
    return "stderr"
