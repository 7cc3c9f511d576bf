"""Regenerate tests/plans/corpus/: real plans from the embedded PostgreSQL (run by hand).

    uv run python -m tests.plans.capture_corpus

Each query is captured twice, as ``NAME.json`` (EXPLAIN (ANALYZE, BUFFERS, VERBOSE,
SETTINGS, FORMAT JSON)) and ``NAME.txt`` (the same in text format). The golden analyses in
tests/plans/golden/ are then rewritten with ``uv run python -m
tests.plans.regenerate_golden`` (read the diff before committing).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg.types.string import TextLoader

from pgcrisis.embedded import EmbeddedServer

HERE = Path(__file__).parent / "corpus"

SETUP = """
CREATE TABLE customers (id int PRIMARY KEY, name text, region int);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers ON DELETE CASCADE,
                     status text, amount numeric, created_at timestamptz);
CREATE TABLE events (id bigint, at date, kind int, payload text) PARTITION BY RANGE (at);
INSERT INTO customers SELECT g, 'c' || g, g % 10 FROM generate_series(1, 2000) g;
INSERT INTO orders SELECT g, 1 + g % 2000, CASE WHEN g % 50 = 0 THEN 'new' ELSE 'done' END,
       g % 97, now() - g * interval '1 minute' FROM generate_series(1, 60000) g;
CREATE INDEX ON orders (created_at);
CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER orders_audit AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit();
ANALYZE;
"""
PARTITIONS = 24

QUERIES = {
    "parallel-aggregate": ("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;"
                           " SET min_parallel_table_scan_size = 0",
                           "SELECT status, count(*), sum(amount) FROM orders GROUP BY status"),
    "hash-join": ("", "SELECT c.region, count(*) FROM orders o JOIN customers c"
                      " ON c.id = o.customer_id WHERE o.status = 'new' GROUP BY c.region"),
    "nested-loop-index": ("SET enable_hashjoin = off; SET enable_mergejoin = off",
                          "SELECT * FROM customers c JOIN orders o ON o.customer_id = c.id"
                          " WHERE c.id < 20"),
    "initplan-subplan": ("", "SELECT id, (SELECT max(amount) FROM orders) AS top,"
                             " (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS n"
                             " FROM customers c WHERE c.id < 50"),
    "cte-twice": ("", "WITH recent AS MATERIALIZED (SELECT * FROM orders"
                      " WHERE created_at > now() - interval '2 days')"
                      " SELECT (SELECT count(*) FROM recent), (SELECT max(amount) FROM recent)"),
    "sort-limit": ("SET work_mem = '64kB'",
                   "SELECT * FROM orders ORDER BY amount DESC, id LIMIT 10 OFFSET 30000"),
    "partitions": ("", "SELECT kind, count(*) FROM events WHERE payload LIKE '%7%' GROUP BY kind"),
    "update-trigger-fk": ("", "UPDATE orders SET amount = amount + 1 WHERE id <= 300"),
    "delete-cascade": ("", "DELETE FROM customers WHERE id <= 20"),
    "bitmap": ("SET enable_indexscan = off",
               "SELECT count(*) FROM orders WHERE created_at > now() - interval '3 days'"),
    "recursive-cte": ("", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r"
                          " WHERE n < 500) SELECT count(*) FROM r"),
    "window-incremental-sort": ("SET enable_hashagg = off",
                                "SELECT customer_id, created_at, sum(amount) OVER (PARTITION BY"
                                " customer_id ORDER BY created_at) FROM orders"
                                " WHERE customer_id < 30 ORDER BY customer_id, created_at"),
    "exists-union-insert": ("", "INSERT INTO customers SELECT id + 100000, name, region"
                                " FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE"
                                " o.customer_id = c.id AND o.status = 'new') UNION ALL"
                                " SELECT 999999, 'x', 1 RETURNING id"),
    "memoize-lateral": ("SET enable_hashjoin = off; SET enable_mergejoin = off",
                        "SELECT c.id, o.n FROM customers c CROSS JOIN LATERAL (SELECT count(*)"
                        " AS n FROM orders o WHERE o.customer_id = c.region) o"
                        " WHERE c.id < 200"),
}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    with EmbeddedServer() as server, psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.adapters.register_loader("json", TextLoader)
        conn.execute(SETUP.encode())
        for month in range(PARTITIONS):
            conn.execute(
                f"CREATE TABLE events_{month} PARTITION OF events FOR VALUES FROM"
                f" ('2020-01-01'::date + {month * 30}) TO ('2020-01-01'::date + {month * 30 + 30})"
                .encode())
        conn.execute(b"INSERT INTO events SELECT g, '2020-01-01'::date + g % 720, g % 7,"
                     b" md5(g::text) FROM generate_series(1, 50000) g; ANALYZE events")
        for name, (settings, query) in QUERIES.items():
            for fmt, ext in (("JSON", "json"), ("TEXT", "txt")):
                with conn.transaction(force_rollback=True):
                    if settings:
                        conn.execute(settings.encode())
                    rows = conn.execute(
                        f"EXPLAIN (ANALYZE, BUFFERS, VERBOSE, SETTINGS, FORMAT {fmt}) {query}"
                        .encode()).fetchall()
                text = rows[0][0] if fmt == "JSON" else "\n".join(r[0] for r in rows)
                (HERE / f"{name}.{ext}").write_text(text + "\n", encoding="utf-8")
            print("captured", name)


if __name__ == "__main__":
    main()
