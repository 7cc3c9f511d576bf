"""The past diagnosed from the log alone: events (:mod:`.events`) in, findings out, with the
same codes, contract and exit status as live triage; every finding names the log lines it
comes from (file, first and last line, first and last time).

STUB (interface only, filled by the log-findings work).
"""

from __future__ import annotations

from collections.abc import Sequence

from pgcrisis.logs.events import Event
from pgcrisis.model.findings import Finding


def findings_of(events: Sequence[Event]) -> tuple[Finding, ...]:
    """The findings the events show, ranked as triage ranks them."""
    return ()
