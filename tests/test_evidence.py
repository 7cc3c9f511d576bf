"""Typed evidence: each record is the mapping the contract shows (same keys, same order, same
values), and every finding whose evidence a consumer reads carries its record."""

from __future__ import annotations

import json

import pytest

from pgcrisis.model import evidence as ev
from pgcrisis.model.findings import Finding
from tests.golden import codec, files
from tests.golden.cases import BY_NAME

#: the codes whose evidence the playbook, grouping or the demo read, and their records
TYPED: dict[str, tuple[type[ev.Evidence], ...]] = {
    "blocking-lock": (ev.BlockingLockEvidence,),
    "lock-hoarder": (ev.LockHoarderEvidence,),
    "idle-in-transaction": (ev.IdleInTransactionEvidence,),
    "long-running-query": (ev.LongRunningQueryEvidence,),
    "runaway-client": (ev.RunawayConnectionsEvidence, ev.RunawayCallsEvidence),
    "matview-blocking-refresh": (ev.LiveRefreshEvidence, ev.ScheduledRefreshEvidence),
    "job-too-frequent": (ev.TooFrequentEvidence,),
    "missing-index": (ev.MissingIndexEvidence,),
    "fk-missing-index": (ev.FkMissingIndexEvidence,),
    "invalid-index": (ev.InvalidIndexEvidence,),
    "duplicate-index": (ev.DuplicateIndexEvidence,),
    "unused-index": (ev.UnusedIndexEvidence,),
    "stale-statistics": (ev.StaleStatisticsEvidence,),
}


def test_a_record_reads_as_its_json() -> None:
    """Fields in order, a tuple as a list, an optional field left out while None; it equals
    the dict of its JSON and spreads like one."""
    record = ev.BlockingLockEvidence(root_pid=0, waiters=2, direct_waiters=1, max_wait_s=3.5,
                                     queued_blockers=(7, 8), gid="pay-1")
    assert list(record) == ["root_pid", "waiters", "direct_waiters", "max_wait_s",
                            "queued_blockers", "gid"]
    assert record == {"root_pid": 0, "waiters": 2, "direct_waiters": 1, "max_wait_s": 3.5,
                      "queued_blockers": [7, 8], "gid": "pay-1"}
    assert json.dumps({**record}) == json.dumps(dict(record))
    assert "root_query" not in record and record.get("root_query") is None
    with pytest.raises(KeyError):
        record["root_query"]
    assert record.waiters == 2


def _judged() -> list[Finding]:
    out: list[Finding] = []
    for case in files.stored_cases():
        snapshot = codec.decode(files.read(case, files.SNAPSHOT))
        out += files.judged(snapshot, BY_NAME[case].thresholds).findings
    return out


def test_every_finding_a_consumer_reads_carries_its_record() -> None:
    """Over every golden case: each finding of a typed code (not a group, whose evidence is
    the group's) has one of its code's records, so a consumer's attribute never fails."""
    seen: set[str] = set()
    for f in _judged():
        if f.code in TYPED and "grouped" not in f.evidence:
            assert isinstance(f.evidence, TYPED[f.code]), (f.code, type(f.evidence))
            seen.add(f.code)
    assert seen == set(TYPED)  # the goldens show every typed code on its own
