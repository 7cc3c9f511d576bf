"""Every tip, produced on a real plan captured from the test server after setting up its cause.

Each test builds the cause in a fresh database (``db``), captures the plan the way
``pgcrisis explain --query`` does (EXPLAIN ANALYZE in a rolled-back transaction, with the
settings applied locally), and asserts the tip and the node it names.
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg
import pytest

from pgcrisis.dsn import Target
from pgcrisis.model.findings import Severity
from pgcrisis.plan import NodeStat, PlanAnalysis, Tip, analyse_bytes
from pgcrisis.plan.capture import capture


def _setup(dsn: str, sql: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.encode())


def _explain(dsn: str, query: str, settings: Mapping[str, str] | None = None) -> PlanAnalysis:
    base = {"max_parallel_workers_per_gather": "0", "jit": "off"}
    base.update(settings or {})
    captured = capture(Target(dsn, "test"), query, settings=base)
    return analyse_bytes(captured.plan_json.encode(), name="captured")


def _tips(analysis: PlanAnalysis, code: str) -> list[Tip]:
    return [tip for tip in analysis.tips if tip.code == code]


def _node(analysis: PlanAnalysis, node_id: int | None) -> NodeStat:
    assert analysis.nodes is not None and node_id is not None
    return next(n for n in analysis.nodes if n.id == node_id)


def _only(analysis: PlanAnalysis, code: str) -> Tip:
    found = _tips(analysis, code)
    assert len(found) == 1, [(t.code, t.node, t.title) for t in analysis.tips]
    return found[0]


@pytest.mark.needs("jit")
def test_jit_overhead(db: str) -> None:
    _setup(db, "CREATE TABLE m AS SELECT g AS a, g % 7 AS b, g::numeric AS c"
               " FROM generate_series(1, 2000) g; ANALYZE m")
    expressions = ", ".join(f"sum(a * {i} + b - {i}), avg(c / {i + 1})" for i in range(1, 25))
    analysis = _explain(db, f"SELECT b, {expressions} FROM m GROUP BY b", {
        "jit": "on", "jit_above_cost": "0", "jit_inline_above_cost": "0",
        "jit_optimize_above_cost": "0"})
    tip = _only(analysis, "jit-overhead")
    assert tip.node is None
    assert tip.severity is Severity.CRITICAL
    assert analysis.summary.jit_ms is not None and tip.saving_ms == pytest.approx(
        analysis.summary.jit_ms, rel=0.01)
    assert "SET jit = off" in tip.sql


def test_missing_index(db: str) -> None:
    _setup(db, "CREATE TABLE orders (id int, customer_id int, note text);"
               " INSERT INTO orders SELECT g, g % 5000, 'x' FROM generate_series(1, 100000) g;"
               " CREATE INDEX orders_customer ON orders (customer_id);"
               " DROP INDEX orders_customer; ANALYZE orders")
    analysis = _explain(db, "SELECT * FROM orders WHERE customer_id = 42")
    tip = _only(analysis, "missing-index")
    node = _node(analysis, tip.node)
    assert (node.node_type, node.relation) == ("Seq Scan", "public.orders")
    assert tip.sql == ("CREATE INDEX CONCURRENTLY ON public.orders (customer_id)",)


def test_row_misestimate_only_where_it_starts(db: str) -> None:
    _setup(db, "CREATE TABLE t (id int, a int, b int);"
               " INSERT INTO t SELECT g, g % 100, g % 100 FROM generate_series(1, 100000) g;"
               " CREATE TABLE u (id int PRIMARY KEY);"
               " INSERT INTO u SELECT generate_series(1, 100000);"
               " ANALYZE t, u")
    analysis = _explain(db, "SELECT * FROM t JOIN u ON u.id = t.id WHERE t.a = 1 AND t.b = 1",
                        {"enable_nestloop": "off", "enable_mergejoin": "off"})
    tip = _only(analysis, "row-misestimate")   # the scan; not the join above it too
    node = _node(analysis, tip.node)
    assert (node.node_type, node.relation) == ("Seq Scan", "public.t")
    assert "underestimate" in tip.detail


def test_sort_spill(db: str) -> None:
    _setup(db, "CREATE TABLE s AS SELECT g AS id, md5(g::text) AS k"
               " FROM generate_series(1, 50000) g;"
               " ANALYZE s")
    analysis = _explain(db, "SELECT * FROM s ORDER BY k", {"work_mem": "64kB"})
    tip = _only(analysis, "sort-spill")
    assert _node(analysis, tip.node).node_type == "Sort"
    assert tip.sql and tip.sql[0].startswith("SET work_mem = '")


def test_hash_spill(db: str) -> None:
    _setup(db, "CREATE TABLE a AS SELECT g AS id, md5(g::text) AS v"
               " FROM generate_series(1, 50000) g;"
               " CREATE TABLE b AS SELECT g AS id FROM generate_series(1, 50000) g; ANALYZE a, b")
    analysis = _explain(db, "SELECT * FROM b JOIN a ON a.id = b.id",
                        {"work_mem": "64kB", "enable_mergejoin": "off", "enable_nestloop": "off"})
    tip = _only(analysis, "hash-spill")
    assert _node(analysis, tip.node).node_type == "Hash"


def test_nested_loop_explosion(db: str) -> None:
    _setup(db, "CREATE TABLE parent AS SELECT g AS id FROM generate_series(1, 5000) g;"
               " CREATE TABLE child AS SELECT g AS id, g % 5000 AS parent_id"
               " FROM generate_series(1, 20000) g; CREATE INDEX ON child (parent_id);"
               " ANALYZE parent, child")
    analysis = _explain(db, "SELECT * FROM parent p JOIN child c ON c.parent_id = p.id", {
        "enable_hashjoin": "off", "enable_mergejoin": "off", "enable_memoize": "off"})
    tip = _only(analysis, "nested-loop-explosion")
    inner = _node(analysis, tip.node)
    assert inner.relationship == "Inner"
    assert inner.loops == 5000


def test_lossy_bitmap(db: str) -> None:
    _setup(db, "CREATE TABLE e AS SELECT g AS id, (random() * 1000)::int AS a, md5(g::text) AS p"
               " FROM generate_series(1, 200000) g; CREATE INDEX ON e (a); ANALYZE e")
    analysis = _explain(db, "SELECT count(p) FROM e WHERE a < 300", {
        "work_mem": "64kB", "enable_seqscan": "off", "enable_indexscan": "off"})
    tip = _only(analysis, "lossy-bitmap")
    assert _node(analysis, tip.node).node_type == "Bitmap Heap Scan"


def test_read_efficiency_on_a_bloated_table(db: str) -> None:
    _setup(db, "CREATE TABLE bloated (id int, pad text) WITH (autovacuum_enabled = off);"
               " INSERT INTO bloated SELECT g, repeat('x', 100) FROM generate_series(1, 60000) g;"
               " DELETE FROM bloated WHERE id > 100")
    analysis = _explain(db, "SELECT count(*) FROM bloated")
    tip = _only(analysis, "read-efficiency")
    node = _node(analysis, tip.node)
    assert (node.node_type, node.relation) == ("Seq Scan", "public.bloated")
    assert "bloated" in tip.detail


def test_cache_miss(db: str) -> None:
    # CREATE TABLE AS writes through a small ring of buffers, and a scan of a table over a
    # quarter of shared_buffers (128MB here) reads through one: most blocks come from outside.
    _setup(db, "CREATE TABLE cold AS SELECT g AS id, repeat(md5(g::text), 4) AS pad"
               " FROM generate_series(1, 250000) g")
    analysis = _explain(db, "SELECT count(*) FROM cold")
    tip = _only(analysis, "cache-miss")
    assert _node(analysis, tip.node).relation == "public.cold"


def test_slow_foreign_key_cascade_trigger(db: str) -> None:
    _setup(db, "CREATE TABLE customers (id int PRIMARY KEY);"
               " CREATE TABLE orders (id int, customer_id int REFERENCES customers"
               " ON DELETE CASCADE); INSERT INTO customers SELECT generate_series(1, 2000);"
               " INSERT INTO orders SELECT g, 1 + g % 2000 FROM generate_series(1, 100000) g;"
               " ANALYZE customers, orders")
    analysis = _explain(db, "DELETE FROM customers WHERE id <= 40")
    tip = _only(analysis, "slow-trigger")
    assert tip.node is None
    assert "orders_customer_id_fkey" in tip.title
    assert "index" in tip.detail.lower()


def test_slow_user_trigger(db: str) -> None:
    _setup(db, "CREATE TABLE acct (id int, n int); INSERT INTO acct SELECT g, 0"
               " FROM generate_series(1, 50) g; CREATE FUNCTION slow() RETURNS trigger"
               " LANGUAGE plpgsql AS $$BEGIN PERFORM pg_sleep(0.002); RETURN NEW; END$$;"
               " CREATE TRIGGER acct_slow AFTER UPDATE ON acct FOR EACH ROW"
               " EXECUTE FUNCTION slow()")
    analysis = _explain(db, "UPDATE acct SET n = n + 1")
    tip = _only(analysis, "slow-trigger")
    assert "acct_slow" in tip.title
    assert analysis.summary.triggers_ms >= 50 * 2.0


def test_planning_time(db: str) -> None:
    tables = 9
    _setup(db, "".join(f"CREATE TABLE j{i} (id int, v int);" for i in range(tables)))
    joins = " ".join(f"JOIN j{i} ON j{i}.id = j{i - 1}.id AND j{i}.v = j0.v"
                     for i in range(1, tables))
    analysis = _explain(db, f"SELECT * FROM j0 {joins}", {
        "join_collapse_limit": "20", "from_collapse_limit": "20", "geqo": "off"})
    tip = _only(analysis, "planning-time")
    assert tip.node is None
    assert analysis.summary.planning_ms is not None and analysis.summary.planning_ms >= 10
