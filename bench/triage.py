"""Benchmark: triage's wall time and query count on a big, busy server vs an empty one.

Starts an embedded server, measures triage on an empty database (the baseline), then creates
10,000 tables (with primary keys, a foreign key every tenth table, some statistics), fills
pg_stat_statements to its maximum (one distinct statement per table, up to
``pg_stat_statements.max``), opens 300 client connections (a few idle in transaction) and
measures again, the default triage (its load window of 1 s, on a second session, overlapped
with the other probes) and the same without a window (``--sample 0``); then adds databases
up to 20 (500 tables each) and measures ``--all-databases``. Prints one table (medians and
[min-max]). Target (issue 20): the default triage under 2 s and under 60 queries for one
database, the window's queries counted (issue 5's was 3 s without a window).

    uv run python bench/triage.py [--tables 10000] [--connections 300] [--databases 20]
                                  [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import psycopg
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from pgcrisis.dsn import Target
from pgcrisis.embedded import EmbeddedServer
from pgcrisis.judge import TriageReport
from pgcrisis.model.load import DEFAULT_WINDOW_S
from pgcrisis.triage import run_triage

TARGET_S = 2.0
TARGET_QUERIES = 60
PGSS_MAX = 10_000  # pg_stat_statements.max of the embedded server


Measured = tuple[float, float, float, int, TriageReport]


def measure(dsn: str, runs: int, *, all_databases: bool = False,
            sample_s: float = DEFAULT_WINDOW_S) -> Measured:
    """Median, min and max wall time (s) of ``runs`` triage passes (the command's default
    window unless ``sample_s`` says otherwise), and the query count."""
    times: list[float] = []
    report: TriageReport | None = None
    for _ in range(runs):
        t0 = time.perf_counter()
        report = run_triage(Target(dsn, "bench"), all_databases=all_databases,
                            sample_s=sample_s)
        times.append(time.perf_counter() - t0)
    assert report is not None
    return statistics.median(times), min(times), max(times), report.queries, report


def build_tables(dsn: str, tables: int, progress: Progress | None) -> None:
    """``tables`` tables in batches of 500 per transaction (each holds a lock until commit)."""
    task = progress.add_task("creating tables", total=tables) if progress else None
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        for start in range(0, tables, 500):
            end = min(start + 500, tables)
            conn.execute(f"""
                DO $$
                BEGIN
                  FOR i IN {start}..{end - 1} LOOP
                    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, parent int%s, v text)',
                      i, CASE WHEN i %% 10 = 9 THEN format(' REFERENCES t%s (id)', i - 1)
                              ELSE '' END);
                  END LOOP;
                END $$""".replace("%%", "%"))  # type: ignore[arg-type]
            if progress is not None and task is not None:
                progress.update(task, completed=end)
        conn.execute("ANALYZE")


def fill_statements(dsn: str, count: int) -> None:
    """Many distinct statements so pg_stat_statements is busy, and a few slow ones on big
    tables without an index, so that index advice is verified with hypopg as in real life."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for i in range(count):
            conn.execute(f"SELECT count(*) FROM t{i} WHERE v = %s", ("x",))  # type: ignore[arg-type]
        for i in range(5):
            conn.execute(f"CREATE TABLE big{i} AS SELECT g AS id, g %% 5000 AS customer_id,"  # type: ignore[arg-type]
                         " md5(g::text) AS note FROM generate_series(1, 200000) g"
                         .replace("%%", "%"))
            conn.execute(f"ANALYZE big{i}")  # type: ignore[arg-type]
            for k in range(300):
                conn.execute(f"SELECT * FROM big{i} WHERE customer_id = %s", (k,))  # type: ignore[arg-type]


def more_databases(dsn_for: Callable[[str], str], admin_dsn: str, count: int,
                   tables: int) -> list[str]:
    """``count`` more databases of ``tables`` tables each (cloned from one template)."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute("CREATE DATABASE bench_template")
    build_tables(dsn_for("bench_template"), tables, None)
    names = [f"bench_{i:02d}" for i in range(count)]
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for name in names:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE bench_template")  # type: ignore[arg-type]
        conn.execute("ALTER DATABASE bench_template WITH ALLOW_CONNECTIONS false")
    return names


def open_connections(dsn: str, n: int, progress: Progress) -> list[psycopg.Connection[Any]]:
    task = progress.add_task("opening connections", total=n)
    conns = []
    for i in range(n):
        conn = psycopg.connect(dsn, autocommit=(i % 20 != 0), application_name=f"app-{i % 7}")
        conn.execute("SELECT 1")  # every 20th stays idle in transaction (seconds old)
        conns.append(conn)
        progress.advance(task)
    return conns


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--databases", type=int, default=20,
                        help="databases for the --all-databases row (the server's own count)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    console = Console(width=max(Console().width, 120))
    settings = {"max_connections": str(args.connections + 50), "max_locks_per_transaction": "256"}
    with EmbeddedServer(settings=settings) as server:
        console.print(f"embedded PostgreSQL {server.binaries.version if server.binaries else '?'}"
                      f" at {server.directory}")
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE empty")
        with psycopg.connect(server.dsn_for("empty"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
            conn.execute("CREATE EXTENSION hypopg")
        empty = measure(server.dsn_for("empty"), args.runs, sample_s=0.0)
        empty_window = measure(server.dsn_for("empty"), args.runs)
        with Progress(console=console, transient=True) as progress:
            big = server.dsn  # the database pg_cron lives in: every probe runs
            with psycopg.connect(big, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
                conn.execute("SELECT cron.schedule('nightly-' || g, '0 3 * * *',"
                             " 'VACUUM ANALYZE') FROM generate_series(1, 20) g")
            build_tables(big, args.tables, progress)
            fill_statements(big, min(args.tables, PGSS_MAX))
            conns = open_connections(big, args.connections, progress)
        try:
            loaded = measure(big, args.runs)
            no_window = measure(big, args.runs, sample_s=0.0)
            with psycopg.connect(server.dsn, autocommit=True) as conn:
                existing = conn.execute("SELECT count(*) FROM pg_database WHERE datallowconn"
                                        " AND NOT datistemplate").fetchone()
            missing = args.databases - (int(existing[0]) if existing else 0)
            more_databases(server.dsn_for, server.dsn, max(0, missing), 500)
            every = measure(big, max(1, args.runs // 2), all_databases=True)
        finally:
            for c in conns:
                c.close()
    table = Table(title="pgcrisis triage: wall time and queries per pass "
                        f"(median \\[min-max] of {args.runs} runs)")
    for col in ("server", "wall time", "queries", "findings"):
        table.add_column(col, justify="right" if col != "server" else "left")
    heavy = (f"{args.tables:,} tables, {args.connections} connections, "
             "full pg_stat_statements")
    for label, m in (("baseline: empty database, --sample 0", empty),
                     (f"empty database, default window ({DEFAULT_WINDOW_S:g} s)", empty_window),
                     (f"{heavy}, --sample 0", no_window),
                     (f"{heavy}, default window ({DEFAULT_WINDOW_S:g} s)", loaded),
                     (f"--all-databases: {len(every[4].databases)} databases, default window",
                      every)):
        table.add_row(label, f"{m[0]:.3f} s [{m[1]:.3f}-{m[2]:.3f}]", str(m[3]),
                      str(len(m[4].findings)))
    console.print(table)
    ok = loaded[0] < TARGET_S and loaded[3] < TARGET_QUERIES
    console.print(f"target (one database, the default triage): under {TARGET_S:.0f} s and "
                  f"under {TARGET_QUERIES} queries: "
                  + ("[green]met[/]" if ok else "[red]NOT met[/]"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
