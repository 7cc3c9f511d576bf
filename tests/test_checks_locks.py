"""Lock chains, prepared transactions and lock hoarding, injected on a real server."""

from __future__ import annotations

import time

from pgcrisis.lab.locks import LeakyRecursiveDelete
from pgcrisis.model.findings import Severity
from tests.helpers import only, triage
from tests.scenarios.locks import IdleTransactionChain, PreparedTransactionBlocker


def test_root_blocker_is_the_idle_transaction_not_the_queued_ddl(db: str) -> None:
    with IdleTransactionChain(db, readers=3) as lab:
        time.sleep(1.1)  # a blocking idle session is news once it has sat for a second
        report = triage(db)
    finding = only(report, "blocking-lock")
    assert finding.objects[0].kind == "backend"
    assert finding.objects[0].pid == lab.root_pid
    assert finding.objects[1].name == "public.orders"
    assert finding.evidence["waiters"] == 4  # the ALTER TABLE and three readers
    assert lab.ddl_pid in finding.evidence["queued_blockers"]
    assert "ALTER TABLE" in finding.detail
    assert finding.remedy is not None
    assert finding.remedy.sql[0] == f"SELECT pg_terminate_backend({lab.root_pid})"
    idle = only(report, "idle-in-transaction")
    assert idle.objects[0].pid == lab.root_pid
    assert idle.evidence["blocks"] == 1


def test_two_independent_chains_give_two_roots(db: str) -> None:
    with (IdleTransactionChain(db, table="orders", readers=1) as first,
          IdleTransactionChain(db, table="invoices", readers=2) as second):
        report = triage(db)
    roots = {f.objects[0].pid for f in report.by_code("blocking-lock")}
    assert roots == {first.root_pid, second.root_pid}
    # the longer chain ranks first among equal severities
    assert report.by_code("blocking-lock")[0].objects[0].pid == second.root_pid


def test_prepared_transaction_is_named_by_gid(db: str) -> None:
    with PreparedTransactionBlocker(db, gid="orphan-42"):
        report = triage(db)
    finding = only(report, "blocking-lock")
    assert finding.objects[0].kind == "prepared-xact"
    assert finding.objects[0].name == "orphan-42"
    assert finding.objects[0].gid == "orphan-42"  # the contract's key, pg_prepared_xacts.gid
    assert finding.remedy is not None
    assert finding.remedy.sql == ("ROLLBACK PREPARED 'orphan-42'",)
    (xact,) = report.snapshot.prepared
    assert "public.accounts" in xact.relations
    assert xact.locks >= 2  # the table lock and the row's transaction lock


def test_leaky_recursive_delete_is_a_lock_hoarder(db: str) -> None:
    with LeakyRecursiveDelete(db, levels=30) as lab:
        report = triage(db)
    finding = only(report, "lock-hoarder")
    assert finding.objects[0].pid == lab.hoarder_pid
    assert finding.objects[0].name  # every object has a name a person can read
    assert finding.severity is Severity.WARNING
    assert finding.evidence["locks"] > 64
    before = lab.measure()
    lab.fixed = True
    after = lab.measure()
    assert after.improved_over(before)
    assert after.value < 20 < before.value
