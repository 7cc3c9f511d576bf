"""How bad something found is: the one scale findings and a plan's tips are ranked by.

It stands apart from :mod:`pgcrisis.model.findings` (which names it too) so that the plan
analyser, which grades its tips on the same scale, loads neither what a finding carries (the
action catalogue) nor the model of server health.

>>> sorted([Severity.INFO, Severity.CRITICAL, Severity.WARNING], key=lambda s: s.rank)
[<Severity.CRITICAL: 'critical'>, <Severity.WARNING: 'warning'>, <Severity.INFO: 'info'>]
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is; the order is the ranking order."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for critical, 1 for warning, 2 for info (lower is worse)."""
        return {"critical": 0, "warning": 1, "info": 2}[self.value]
