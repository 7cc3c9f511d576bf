"""The server's format of a log's lines, recognised from their content.

STUB: filled by the transport work (this minimal version only looks at the first line).
"""

from __future__ import annotations

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
    if first[:4].isdigit() and first.count(",") >= 12:
        return "csvlog"
    if "\x00" in first:
        return ""
    return "stderr"
