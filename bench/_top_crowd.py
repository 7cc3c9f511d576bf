"""The crowd ``bench/top.py`` measures under: the tables and roles, and ``--connections``
client sessions kept open, some busy, some queued in lock chains."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from rich.console import Console

from pgcrisis.embedded import EmbeddedServer


@dataclass
class Crowd:
    """The client sessions, kept open (and some busy) until closed."""

    conns: list[psycopg.Connection[Any]] = field(default_factory=list)
    mix: dict[str, int] = field(default_factory=dict)

    def close(self) -> None:
        for conn in self.conns:
            conn.close()


def open_crowd(server: EmbeddedServer, total: int, console: Console) -> Crowd:
    """``total`` sessions of role ``shop`` over the unix socket (trust, so cheap to open):
    a lock chain (an idle transaction holding a table, an ALTER TABLE queued on it, readers
    queued behind the ALTER), a row-lock chain, active ``pg_sleep``s, idle in transaction,
    and idle for the rest."""
    crowd = Crowd()
    chain = min(40, total // 25)      # readers queued behind the ALTER TABLE
    rows = min(8, total // 100)       # UPDATEs queued on one row
    active = total // 20
    in_xact = total // 20
    idle = total - (2 + chain) - (1 + rows) - active - in_xact
    if idle < 0:
        raise SystemExit("--connections must be at least 50")
    crowd.mix = {"idle": idle, "idle in transaction": in_xact, "active (pg_sleep)": active,
                 "lock chain (root, ALTER TABLE, readers)": 2 + chain,
                 "row-lock chain (holder, UPDATEs)": 1 + rows}
    done = 0

    def session(app: str) -> psycopg.Connection[Any]:
        nonlocal done
        conn = psycopg.connect(host=str(server.socket_dir), port=server.port,
                               dbname=server.dbname, user="shop", autocommit=True,
                               application_name=app)
        crowd.conns.append(conn)
        done += 1
        if done % 200 == 0 or done == total:
            console.print(f"  {done:,}/{total:,} sessions open")
        return conn

    def send(conn: psycopg.Connection[Any], query: str) -> None:
        """Send without waiting for the result: the session stays busy (or queued)."""
        conn.pgconn.send_query(query.encode())

    for i in range(idle):
        session(f"web-{i % 8}").execute("SELECT 1")
    for i in range(in_xact):
        conn = session("worker")
        conn.execute("BEGIN")
        conn.execute("SELECT * FROM bench_accounts WHERE id = %s", (i % 100 + 2,))
    for _ in range(active):
        send(session("report"), "SELECT pg_sleep(3600) /* long report */")
    root = session("batch")
    root.execute("BEGIN")
    root.execute("SELECT count(*) FROM bench_orders")
    send(session("migration"), "ALTER TABLE bench_orders ADD COLUMN note text")
    time.sleep(0.2)  # the ALTER is queued before the readers
    for _ in range(chain):
        send(session("web-0"), "SELECT count(*) FROM bench_orders")
    holder = session("batch")
    holder.execute("BEGIN")
    holder.execute("UPDATE bench_accounts SET balance = balance + 1 WHERE id = 1")
    for _ in range(rows):
        send(session("worker"), "UPDATE bench_accounts SET balance = balance - 1 WHERE id = 1")
    return crowd


def prepare(server: EmbeddedServer, password: str, roles: Sequence[str]) -> None:
    """pg_stat_statements, the tables the crowd uses, and the tools' ``roles``."""
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("CREATE ROLE shop LOGIN")
        conn.execute("CREATE TABLE bench_orders (id int PRIMARY KEY, total numeric)")
        conn.execute("INSERT INTO bench_orders SELECT g, g FROM generate_series(1, 1000) g")
        conn.execute("CREATE TABLE bench_accounts (id int PRIMARY KEY, balance numeric)")
        conn.execute("INSERT INTO bench_accounts SELECT g, 0 FROM generate_series(1, 200) g")
        conn.execute("GRANT SELECT, UPDATE ON bench_orders, bench_accounts TO shop")
        conn.execute("ALTER TABLE bench_orders OWNER TO shop")  # its ALTER TABLE may run
        for role in roles:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE pg_monitor").format(
                sql.Identifier(role), sql.Literal(password)))
