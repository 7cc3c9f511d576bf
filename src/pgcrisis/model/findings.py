"""Findings: what a check concluded, with evidence and a remedy (the triage contract's shape)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is; the order is the ranking order."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for critical, 1 for warning, 2 for info (lower is worse)."""
        return {"critical": 0, "warning": 1, "info": 2}[self.value]


JsonValue = Any  # evidence values: numbers, strings, lists, small dicts


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """What a finding is about; ``kind`` is one of the contract's object kinds.

    Relation-like names are schema-qualified. ``pid`` is set for backends, ``id`` for jobs
    (jobid) and queries (queryid).
    """

    kind: str
    name: str | None = None
    pid: int | None = None
    id: int | None = None

    def to_json(self) -> dict[str, JsonValue]:
        """The contract's object form: only the keys that are set."""
        out: dict[str, JsonValue] = {"kind": self.kind}
        if self.pid is not None:
            out["pid"] = self.pid
        if self.id is not None:
            out["id"] = self.id
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass(frozen=True, slots=True)
class Remedy:
    """What to do; ``sql`` holds the statements to run, if there are any."""

    summary: str
    sql: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """One conclusion of one check.

    ``impact`` orders findings of equal severity: sessions affected x 1e6 plus seconds lost
    (so any finding that holds sessions up outranks one that only wastes time); it is
    internal to ranking and not part of the JSON contract.
    """

    code: str
    severity: Severity
    title: str
    detail: str
    objects: tuple[ObjectRef, ...]
    evidence: Mapping[str, JsonValue] = field(default_factory=dict)
    remedy: Remedy | None = None
    impact: float = 0.0


@dataclass(frozen=True, slots=True)
class Skipped:
    """A check that could not run here, and why."""

    check: str
    reason: str


def rank(findings: list[Finding]) -> list[Finding]:
    """Critical first, then by estimated impact (largest first), then code for stability."""
    return sorted(findings, key=lambda f: (f.severity.rank, -f.impact, f.code, f.title))
