"""The seed incident's causes, wired as demo causes: scenario, findings that name it, fix."""

from __future__ import annotations

from collections.abc import Sequence

from pgcrisis.lab.demo import Cause, Fix
from pgcrisis.lab.faults_locks import LeakyRecursiveDelete
from pgcrisis.triage import TriageReport


def _leaky_delete(dsn: str, scale: float) -> Cause:
    scenario = LeakyRecursiveDelete(dsn, levels=60)

    def deploy_fix() -> None:
        scenario.fixed = True

    def choose(report: TriageReport) -> Fix:
        return Fix("deploy the fixed delete: close each level's statement and commit per level "
                   "(the leaking transaction itself was ended)", code_change=deploy_fix)

    return Cause("a recursive delete leaks one open cursor per level", scenario,
                 ("lock-hoarder",), choose)


def build_causes(dsn: str, scale: float) -> Sequence[Cause]:
    """Every cause of the seed incident, in the order the write-up tells them."""
    return [_leaky_delete(dsn, scale)]
