"""What changed between two triage reports: findings gone, still there, new (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pgcrisis.judge import TriageReport
from pgcrisis.model.findings import Finding


def finding_key(finding: Finding) -> str:
    """What identifies a finding across runs: its code and its first object's keys (titles
    change as waits grow; the object does not)."""
    head = finding.objects[0].to_json() if finding.objects else {}
    return finding.code + " " + json.dumps(head, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Changes:
    """Findings of ``before`` that are gone in ``after``, those remaining, and new ones."""

    gone: tuple[Finding, ...]
    remaining: tuple[Finding, ...]
    new: tuple[Finding, ...]


def compare(before: TriageReport, after: TriageReport) -> Changes:
    """Match findings by :func:`finding_key`; ``remaining`` are ``after``'s versions."""
    after_keys = {finding_key(f): f for f in after.findings}
    before_keys = {finding_key(f) for f in before.findings}
    gone = tuple(f for f in before.findings if finding_key(f) not in after_keys)
    remaining = tuple(f for k, f in after_keys.items() if k in before_keys)
    new = tuple(f for k, f in after_keys.items() if k not in before_keys)
    return Changes(gone, remaining, new)
