"""write-storm, large-result and index-overhead on profiles made by hand (no server): what makes
a storm and what does not (busy writers on CPU, a burst far above a quiet server's usual
level), what a large result is against the others, which tables' unused indexes are named
once. The same loads made for real are in tests/test_load_writes.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pgcrisis.actions import SetSetting
from pgcrisis.checks.registry import run_checks
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.collect.load_build import Totals, build
from pgcrisis.collect.probe_load import named
from pgcrisis.model.evidence import of
from pgcrisis.model.evidence_saturation import (
    IndexOverheadEvidence,
    LargeResultEvidence,
    WriteStormEvidence,
)
from pgcrisis.model.findings import Finding
from pgcrisis.model.health import IndexDef, ServerHealth
from pgcrisis.model.load import LoadProfile
from pgcrisis.model.load_rates import ServerCounters
from pgcrisis.model.load_tables import RelationWrites
from tests.test_checks_load import TWO, crunching, snapshot

INSERT, COMMIT, FETCH, LOOKUP = -7, -8, -9, -10
TEXTS = {INSERT: "INSERT INTO events (kind, payload) VALUES ($1, $2)", COMMIT: "COMMIT",
         FETCH: "SELECT * FROM catalog WHERE NOT discontinued",
         LOOKUP: "SELECT * FROM catalog WHERE id = $1"}
HOUR = 3600.0


def totals(calls: float, rows: float, *, exec_ms: float = 100.0, wal: float = 0.0,
           dirtied: float = 0.0) -> Totals:
    return Totals(calls, exec_ms, rows, 0.0, 0.0, 0.0, dirtied, 0.0, wal, None)


def counters(at: float, *, commits: int = 0, inserted: int = 0, wal: int = 0,
             started: float = 0.0) -> ServerCounters:
    return ServerCounters(at, started, commits, 0, 0, 0, 0, 0, inserted, 0, 0, 0,
                          db_reset_at=None, wal_bytes=wal, wal_reset_at=None, wal_lsn=wal)


def profile(samples: Any, deltas: dict[tuple[str, int], Totals], *,
            window: tuple[ServerCounters, ServerCounters] | None = None,
            writes: tuple[RelationWrites, ...] = ()) -> LoadProfile:
    p = build(samples, 1.0, TWO, deltas=deltas, statements_s=1.0, relations_s=1.0,
              counters=window or (), writes=writes)
    return named(p, TEXTS)


def judged(p: LoadProfile, **kw: Any) -> list[Finding]:
    return list(run_checks(replace(snapshot(p), **kw), Thresholds()).findings)


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


# -- write-storm ------------------------------------------------------------------------------

INSERTING = {("app", INSERT): totals(8000, 8000, wal=4e6, dirtied=300)}


def test_writers_piled_up_on_the_wal_are_a_storm_named_by_their_insert() -> None:
    p = profile(crunching(12, wait=("LWLock", "WALWrite"), query_id=INSERT), INSERTING,
                window=(counters(10.0, commits=100), counters(11.0, commits=8100)))
    storms = [f for f in judged(p) if f.code == "write-storm"]
    assert storms
    ev = of(storms[0].evidence, WriteStormEvidence)
    assert ev is not None and ev.because == ("sessions",)
    assert ev.write_wait_sessions == 12 and ev.statements[0].queryid == INSERT
    assert storms[0].objects[0].queryid == INSERT
    # the server started seconds ago: no usual level, and the finding says so
    assert ev.usual.startswith("not compared") and all(r.times_usual is None for r in ev.rates)


def test_as_many_writers_busy_on_cpu_are_no_storm() -> None:
    p = profile(crunching(12, query_id=INSERT), INSERTING,
                window=(counters(10.0, commits=100), counters(11.0, commits=8100)))
    found = codes(judged(p))
    assert "write-storm" not in found and "cpu-saturation" in found


def test_a_burst_far_above_a_quiet_servers_usual_level_is_no_storm_alone() -> None:
    # 100 commits an hour, then 2,000 in a second, from two sessions the server keeps up with
    quiet = (counters(10 * HOUR, commits=1000), counters(10 * HOUR + 1, commits=3000))
    p = profile(crunching(2, query_id=INSERT), INSERTING, window=quiet)
    assert "write-storm" not in codes(judged(p))
    # the same burst with writers piled up on the WAL: a storm, and its rates beside the usual
    p = profile(crunching(12, wait=("IO", "WALSync"), query_id=INSERT), INSERTING, window=quiet)
    ev = of(next(f for f in judged(p) if f.code == "write-storm").evidence, WriteStormEvidence)
    assert ev is not None and ev.because == ("sessions", "usual")
    commits = next(r for r in ev.rates if r.name == "commits")
    assert commits.per_s == 2000 and commits.times_usual is not None and commits.times_usual > 10
    assert ev.usual.startswith("over 10 h")


def test_one_session_flooding_the_wal_is_a_storm() -> None:
    deleting = {("app", INSERT): totals(1, 0, exec_ms=900, wal=0.0)}
    flood = (counters(10.0, wal=0), counters(11.0, wal=64 * 1024 * 1024))
    p = profile(crunching(1, query_id=INSERT), deleting, window=flood)
    ev = of(next(f for f in judged(p) if f.code == "write-storm").evidence, WriteStormEvidence)
    assert ev is not None and ev.because == ("wal",) and ev.wal_from == "the WAL position"


# -- large-result -----------------------------------------------------------------------------

def test_a_statement_fetching_far_more_rows_per_call_than_the_others_is_a_large_result() -> None:
    deltas = {("app", FETCH): totals(4, 720_000, exec_ms=1800),
              ("app", LOOKUP): totals(900, 900, exec_ms=90)}
    p = profile(crunching(2, query_id=FETCH), deltas)
    found = [f for f in judged(p) if f.code == "large-result"]
    assert len(found) == 1 and found[0].objects[0].queryid == FETCH
    ev = of(found[0].evidence, LargeResultEvidence)
    assert ev is not None and ev.rows_per_call == 180_000 and ev.others_rows_per_call == 1
    # the table is not known here: no bytes are guessed
    assert ev.bytes_per_call is None and ev.bytes_how.startswith("not estimated")


def test_many_rows_per_call_like_the_others_are_no_large_result() -> None:
    deltas = {("app", FETCH): totals(4, 720_000, exec_ms=1800),
              ("app", LOOKUP): totals(10, 900_000, exec_ms=900)}
    assert "large-result" not in codes(judged(profile(crunching(2, query_id=FETCH), deltas)))


# -- index-overhead ---------------------------------------------------------------------------

def index(oid: int, name: str, *, primary: bool = False, scans: int = 0) -> IndexDef:
    return IndexDef(oid, 16400, "public.items", "public", name, f"public.{name}", "btree",
                    (f"1:{name}",), (), None, None, primary, primary,
                    "items_pkey" if primary else None, True, True, False, 500, scans, "")


ITEMS = (index(1, "items_pkey", primary=True, scans=90_000), index(2, "items_c1"),
         index(3, "items_c2"), index(4, "items_c3"), index(5, "items_c4", scans=12))


def test_a_table_written_heavily_with_unused_indexes_is_named_once() -> None:
    updated = (RelationWrites("public.items", 0, 5000, 100, 0, relid=16400),)
    p = profile(crunching(1), {}, writes=updated)
    findings = judged(p, index_defs=ITEMS)
    found = [f for f in findings if f.code == "index-overhead"]
    assert len(found) == 1
    ev = of(found[0].evidence, IndexOverheadEvidence)
    assert ev is not None and ev.indexes == 5
    assert set(ev.unused) == {"public.items_c1", "public.items_c2", "public.items_c3"}
    assert ev.index_entries_per_s == 5 * 4900
    # the same indexes are not reported again as unused-index
    assert not [f for f in findings if f.code == "unused-index"]


def test_hot_updates_add_no_index_entries() -> None:
    hot = (RelationWrites("public.items", 0, 5000, 4800, 0, relid=16400),)
    findings = judged(profile(crunching(1), {}, writes=hot), index_defs=ITEMS)
    assert "index-overhead" not in codes(findings)
    assert "unused-index" in codes(findings)


def test_wal_filling_max_wal_size_before_checkpoint_timeout_is_a_storm() -> None:
    # 5 MB/s from one session: below 16 MiB/s, but 1 GB of max_wal_size fills in 200 s,
    # before the 300 s of checkpoint_timeout
    flood = (counters(10.0, wal=0), counters(11.0, wal=5 * 1024 * 1024))
    p = profile(crunching(1, query_id=INSERT), {("app", INSERT): totals(1, 0, exec_ms=900)},
                window=flood)
    assert "write-storm" not in codes(judged(p))
    small = ServerHealth(settings={"max_wal_size": "1024", "checkpoint_timeout": "300"})
    storms = [f for f in judged(p, server_health=small) if f.code == "write-storm"]
    ev = of(storms[0].evidence, WriteStormEvidence) if storms else None
    assert ev is not None and ev.because == ("wal",)
    assert ev.storm_wal_bytes_per_s == round(1024 * 1024 * 1024 / 300)
    assert "max_wal_size (1,024 MB)" in ev.storm_wal_how


def test_checkpoints_requested_in_the_storm_offer_a_larger_max_wal_size() -> None:
    window = (replace(counters(10.0, wal=0), checkpoints_requested=3, checkpoints_timed=1),
              replace(counters(11.0, wal=64 * 1024 * 1024), checkpoints_requested=4,
                      checkpoints_timed=1))
    p = profile(crunching(1, query_id=INSERT), {("app", INSERT): totals(1, 0, exec_ms=900)},
                window=window)
    health = ServerHealth(settings={"max_wal_size": "1024", "checkpoint_timeout": "300"})
    storm = next(f for f in judged(p, server_health=health) if f.code == "write-storm")
    ev = of(storm.evidence, WriteStormEvidence)
    assert ev is not None and ev.checkpoints_requested == 1 and ev.checkpoints_timed == 0
    assert storm.remedy is not None
    raise_wal = [a for a in storm.remedy.actions
                 if isinstance(a, SetSetting) and a.name == "max_wal_size"]
    assert raise_wal and raise_wal[0].value == "2048MB" and raise_wal[0].option
