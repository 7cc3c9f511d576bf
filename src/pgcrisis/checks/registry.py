"""The check registry: each check declares its code, minimum server version and needs.

A check whose needs are unmet (a snapshot part that could not be read, an older server)
becomes a :class:`~pgcrisis.model.findings.Skipped` entry with the reason; a check never
crashes triage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.findings import Finding, Skipped, rank
from pgcrisis.model.parts import PART_NAMES
from pgcrisis.model.snapshot import Snapshot

CheckFunc = Callable[[Snapshot, Thresholds], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A registered check."""

    code: str
    func: CheckFunc
    min_version: int
    needs: tuple[str, ...]
    description: str


CHECKS: dict[str, CheckSpec] = {}


def check(
    code: str, *, needs: tuple[str, ...], min_version: int = 100000
) -> Callable[[CheckFunc], CheckFunc]:
    """Register ``func`` as the check for finding ``code``; duplicate codes are rejected."""
    unknown = set(needs) - PART_NAMES
    if unknown:
        raise ValueError(f"check {code!r} needs unknown parts {sorted(unknown)}")

    def register(func: CheckFunc) -> CheckFunc:
        if code in CHECKS:
            raise ValueError(f"a check for {code!r} is already registered")
        doc = (func.__doc__ or "").strip().splitlines()
        CHECKS[code] = CheckSpec(code, func, min_version, needs, doc[0] if doc else "")
        return func

    return register


def _version_label(num: int) -> str:
    return str(num // 10000) if num >= 100000 else f"{num // 10000}.{num // 100 % 100}"


@dataclass(frozen=True, slots=True)
class CheckResults:
    """Ranked findings and the checks that could not run."""

    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]


def run_checks(snapshot: Snapshot, thresholds: Thresholds | None = None,
               only: Iterable[str] | None = None) -> CheckResults:
    """Run every registered check (or ``only`` those) on ``snapshot``."""
    from pgcrisis.checks import catalogue  # noqa: F401  (registers the checks)

    thresholds = thresholds or Thresholds()
    wanted = set(only) if only is not None else None
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    for spec in CHECKS.values():
        if wanted is not None and spec.code not in wanted:
            continue
        if snapshot.server.version_num < spec.min_version:
            skipped.append(Skipped(spec.code, f"needs PostgreSQL {_version_label(spec.min_version)}"
                                   f" or newer (server is {snapshot.server.server_version})"))
            continue
        missing = [p for p in spec.needs if p in snapshot.unavailable]
        if missing:
            skipped.append(Skipped(spec.code, snapshot.unavailable[missing[0]]))
            continue
        findings.extend(spec.func(snapshot, thresholds))
    # Skipped checks together by reason, then by code: the order a reader scans, and one that
    # does not move when the check modules are imported in another order.
    return CheckResults(tuple(rank(findings)),
                        tuple(sorted(skipped, key=lambda s: (s.reason, s.check))))
