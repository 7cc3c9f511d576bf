"""Write storms, large results and index overhead produced for real, named by triage live and
over a recording.

Each test makes the load with real clients (tests/scenarios/writes.py: 32 pgbench clients
inserting one row per transaction; one DELETE of 900,000 rows; 8 pgbench clients updating an
indexed column of a table with 12 indexes; 4 pgbench clients each fetching 180,000 rows of a
200,000-row table), proven by the scenario's self-check, then:

- live: ``triage`` with its default load window names that kind first (the first root cause,
  as the report prints them: a consequence is printed beneath its cause), with the statement
  that drives it (its queryid, and its text) and the client running it;
- recorded: ``pgcrisis record`` runs during the load, and ``triage --from/--to`` over that
  window names it too, with the same statement.

Each takes 10-25 s on the shared 2-core machine.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from pgcrisis.history.service import triage_window
from pgcrisis.judge import TriageReport
from pgcrisis.model.evidence import of
from pgcrisis.model.evidence_saturation import (
    IndexOverheadEvidence,
    LargeResultEvidence,
    WriteStormEvidence,
)
from pgcrisis.model.findings import Finding, Severity
from pgcrisis.model.load import DEFAULT_WINDOW_S
from pgcrisis.presentation import load_text
from pgcrisis.store import open_store
from tests.helpers import PgServer, triage
from tests.record_helpers import Background, server_now
from tests.scenarios.writes import IndexedUpdates, InsertStorm, LargeFetch, MassDelete

pytestmark = [pytest.mark.needs("pg_stat_statements"), pytest.mark.slow]


def _queryid(dsn: str, text: str) -> int:
    """pg_stat_statements' queryid of the statement whose text starts like ``text``, in the
    test's own database (the cluster is shared: tests/test_contention.py inserts into an
    ``events`` table of its own, another queryid)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT queryid FROM pg_stat_statements WHERE query LIKE %s"
                           " AND dbid = (SELECT oid FROM pg_database"
                           " WHERE datname = current_database())"
                           " ORDER BY calls DESC LIMIT 1", (text + "%",)).fetchone()
    assert row is not None, f"pg_stat_statements has no statement like {text!r}"
    return int(row[0])


#: what many sessions inserting into one table may be named first by instead of a write storm
INSERT_CONTENTION = frozenset({"lwlock-contention", "relation-extension"})


def _named_first(report: TriageReport) -> Finding:
    """The first root cause above info, in the order the report prints them (each root
    where the best ranked finding of its tree would be, its consequences beneath it)."""
    roots = [report.findings[i] for i, depth in report.tree()
             if depth == 0 and report.findings[i].severity is not Severity.INFO]
    assert roots, [f.title for f in report.findings]
    return roots[0]


def _titles(report: TriageReport) -> list[str]:
    """What a failed assertion shows: the load profile's line, then every finding."""
    profile = report.snapshot.load
    return ([load_text.line(profile)] if profile is not None else []) + [
        f"{f.code}: {f.title}" for f in report.findings]


class _Recording:
    """A recorder started before the window to judge; the window's start and end marked."""

    def __init__(self, dsn: str, path: Path) -> None:
        self.dsn = dsn
        self.path = str(path)
        self.background = Background(dsn, self.path)
        self.start = self.end = server_now(dsn)

    def __enter__(self) -> _Recording:
        self.background.__enter__()
        self.background.wait_frames(2)
        self.start = server_now(self.dsn)
        return self

    def __exit__(self, *exc: object) -> None:
        self.background.__exit__(*exc)

    def close_window(self, frames: int = 6) -> None:
        """At least ``frames`` more samples, then the window ends."""
        self.background.wait_frames(frames)
        self.end = server_now(self.dsn)

    def judged(self) -> TriageReport:
        store = open_store(self.path, create=False)
        try:
            return triage_window(store, None, self.start, self.end)
        finally:
            store.close()


def _about(findings: list[Finding], queryid: int) -> bool:
    return any(o.kind == "query" and o.queryid == queryid for f in findings for o in f.objects)


def _storm_names_insert(storm: Finding, queryid: int, application_name: str) -> None:
    """A write storm of sessions piled up writing, naming the insert and its client."""
    assert storm.code == "write-storm"
    ev = of(storm.evidence, WriteStormEvidence)
    assert ev is not None and "sessions" in ev.because and ev.writing_sessions >= 4
    assert ev.write_wait_sessions > 0  # piled up as writers do, not merely busy
    assert ev.statements and ev.statements[0].queryid == queryid
    assert ev.statements[0].rows_per_s and ev.statements[0].rows_per_s > 0
    assert storm.objects[0].kind == "query" and storm.objects[0].queryid == queryid
    assert "INSERT INTO events" in (storm.objects[0].name or "")
    assert any(o.kind == "client" and o.application_name == application_name
               for o in storm.objects)
    # a cluster started minutes ago has no usual level: the finding says it did not compare
    assert ev.usual.startswith("not compared"), ev.usual
    assert all(level.times_usual is None for level in ev.rates)
    assert {level.name for level in ev.rates} >= {"commits", "rows written", "WAL bytes"}


def test_insert_storm_is_named_first_with_its_insert_live_and_recorded(
        pg: PgServer, db: str, tmp_path: Path) -> None:
    """Many clients inserting and committing: a write storm first, naming the insert. Where
    the inserters piled up on the table's last page more than on the WAL (how the waits fall
    depends on the machine), the contention finding about that table comes first, naming the
    insert, and a write storm judged too stands beneath it."""
    with InsertStorm(db, pg.tool("pgbench")) as load:
        live = triage(db, sample_s=DEFAULT_WINDOW_S)
        queryid = _queryid(db, "INSERT INTO events")
        first = _named_first(live)
        storms = live.by_code("write-storm")
        if first.code in INSERT_CONTENTION:
            assert _about([first], queryid), _titles(live)
        else:
            assert first.code == "write-storm", _titles(live)
        assert storms or first.code in INSERT_CONTENTION, _titles(live)
        if storms:
            _storm_names_insert(storms[0], queryid, load.application_name)
        with _Recording(db, tmp_path / "r.db") as rec:
            rec.close_window()
    recorded = rec.judged()
    storms = recorded.by_code("write-storm")
    named = storms or [f for f in recorded.findings if f.code in INSERT_CONTENTION]
    assert named and _about(named, queryid), _titles(recorded)
    assert all("started_at" in f.evidence for f in storms)


def test_mass_delete_is_named_first_with_its_delete_live_and_recorded(
        pg: PgServer, db: str, tmp_path: Path) -> None:
    with _Recording(db, tmp_path / "r.db") as rec, MassDelete(db) as load:
        started = server_now(db)
        live = triage(db, sample_s=DEFAULT_WINDOW_S)
        load.wait_done()
        rec.start = started
        # past the delete, until the recorder has read the counters again (every few
        # samples): a frame's rates then span the delete
        rec.close_window()
    queryid = _queryid(db, "DELETE FROM purged")
    first = _named_first(live)
    assert first.code == "write-storm", _titles(live)
    ev = of(first.evidence, WriteStormEvidence)
    assert ev is not None and "wal" in ev.because and ev.wal_from == "the WAL position"
    assert ev.statements and ev.statements[0].queryid == queryid
    assert first.objects[0].kind == "query" and first.objects[0].queryid == queryid
    assert "DELETE FROM purged" in (first.objects[0].name or "")
    recorded = rec.judged()
    storms = recorded.by_code("write-storm")
    assert storms and _about(storms, queryid), _titles(recorded)


def test_index_overhead_is_named_first_with_its_update_and_unused_indexes(
        pg: PgServer, db: str, tmp_path: Path) -> None:
    with IndexedUpdates(db, pg.tool("pgbench")) as load:
        live = triage(db, sample_s=DEFAULT_WINDOW_S)
        queryid = _queryid(db, "UPDATE items SET c1")
        first = _named_first(live)
        assert first.code == "index-overhead", _titles(live)
        ev = of(first.evidence, IndexOverheadEvidence)
        assert ev is not None and ev.table == "public.items"
        assert ev.indexes == load.indexes and len(ev.unused) == load.indexes - 1
        assert "public.items_pkey" not in ev.unused  # it backs a constraint
        assert ev.statements and ev.statements[0].queryid == queryid
        assert [o.kind for o in first.objects[:2]] == ["relation", "query"]
        assert first.objects[1].queryid == queryid
        assert sum(o.kind == "index" for o in first.objects) == load.indexes - 1
        assert first.remedy is not None and len(first.remedy.sql) == load.indexes - 1
        assert all(s.startswith("DROP INDEX CONCURRENTLY") for s in first.remedy.sql)
        # a write storm or a CPU saturation of the same statement is its consequence
        for f in live.findings:
            if f.code in ("write-storm", "cpu-saturation") and f.objects[0].queryid == queryid:
                assert first in live.causes_of(f) or any(
                    first in live.causes_of(c) for c in live.causes_of(f)), _titles(live)
        with _Recording(db, tmp_path / "r.db") as rec:
            rec.close_window()
    recorded = rec.judged()
    found = recorded.by_code("index-overhead")
    assert found and any(o.name == "public.items" for f in found for o in f.objects), \
        _titles(recorded)


def test_large_result_is_named_first_with_its_fetch_and_table(
        pg: PgServer, db: str, tmp_path: Path) -> None:
    with LargeFetch(db, pg.tool("pgbench")) as load:
        live = triage(db, sample_s=DEFAULT_WINDOW_S)
        queryid = _queryid(db, "SELECT * FROM catalog")
        first = _named_first(live)
        assert first.code == "large-result", _titles(live)
        ev = of(first.evidence, LargeResultEvidence)
        assert ev is not None and ev.queryid == queryid
        assert ev.rows_per_call == pytest.approx(0.9 * load.rows, rel=0.01)
        assert ev.table == "public.catalog" and ev.table_share_per_call is not None
        assert 0.85 <= ev.table_share_per_call <= 0.95
        assert ev.bytes_per_call and ev.bytes_how.startswith("estimated")
        assert first.objects[0].kind == "query" and first.objects[0].queryid == queryid
        assert any(o.kind == "relation" and o.name == "public.catalog" for o in first.objects)
        assert any(o.kind == "client" and o.application_name == load.application_name
                   for o in first.objects)
        with _Recording(db, tmp_path / "r.db") as rec:
            rec.close_window()
    recorded = rec.judged()
    found = recorded.by_code("large-result")
    assert found and _about(found, queryid), _titles(recorded)
