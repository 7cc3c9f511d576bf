"""The events the lab makes happen on its server, each for real: errors of several SQLSTATEs,
slow multi-line statements carrying sqlcommenter tags (with auto_explain's plans, in text and
JSON), temporary files, a checkpoint, a chain of lock waits, a deadlock, statement and
idle-in-transaction timeouts, an authentication failure, connections refused for lack of
slots, and a backend killed with SIGKILL (the server crashes and restarts).

Every wait polls a condition with a deadline (:func:`wait_until`); nothing sleeps to wait.
:class:`Made` counts what was caused, per SQLSTATE, for the tests to find in the logs.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg

from pgcrisis.embedded import EmbeddedServer
from pgcrisis.lab.scenario import wait_until

Conn = psycopg.Connection[Any]
APP_ROLE = "shop"

#: multi-line statements: the sqlcommenter tag is on their last line
SLOW_TAGGED = ("SELECT pg_sleep(0.06) AS slow,\n       count(*) AS n\n  FROM lab_items\n"
               " /* controller='reports',view='slow_report' */")
SLOW_TAGGED_JSON = ("SELECT pg_sleep(0.06) AS slow_json,\n       max(id)\n  FROM lab_items\n"
                    " /* controller='reports',view='slow_report_json' */")
#: longer than syslog's 900-byte pieces: PostgreSQL's syslog destination splits it at a space
LONG_FAILING = ("SELECT 1/0 WHERE 0 NOT IN (" + ", ".join(str(i) for i in range(1, 400))
                + ") /* view='long_filter' */")
FAILING_TAGGED = "SELECT *\n  FROM no_such_table\n /* view='orders_page' */"
SETUP = [
    "CREATE TABLE lab_items (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)",
    "INSERT INTO lab_items SELECT g FROM generate_series(1, 100) g",
    f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_ROLE}-pw'",
    f"GRANT ALL ON lab_items TO {APP_ROLE}",
]


class Made(Counter[str]):
    """What the workload caused: SQLSTATE -> times, and ``crash`` for the killed backend."""


def errors(conn: Conn, made: Made) -> None:
    """One statement per SQLSTATE (some twice), each failing as an application's would."""
    cases = [
        ("22012", "SELECT 1/0 /* view='customer_report' */"),
        ("22012", "SELECT 1/0 /* view='customer_report' */"),
        ("22012", LONG_FAILING),
        ("42P01", FAILING_TAGGED),
        ("42601", "SELEC 1"),
        ("23505", "INSERT INTO lab_items (id) VALUES (1)"),
        ("22P02", "SELECT 'abc'::int"),
        ("42703", "DO $$ BEGIN EXECUTE 'SELECT no_column FROM lab_items'; END $$"),
        ("P0001", "DO $$ BEGIN RAISE EXCEPTION 'stock is negative' "
                  "USING HINT = 'recount the shelf'; END $$"),
    ]
    for sqlstate, statement in cases:
        try:
            conn.execute(statement.encode())
        except psycopg.Error as exc:
            assert exc.sqlstate == sqlstate, (statement, exc.sqlstate)
            made[sqlstate] += 1
    conn.execute("COMMIT")  # WARNING 25P01: there is no transaction in progress
    made["25P01"] += 1


def slow(conn: Conn, made: Made) -> None:
    """Slow multi-line statements (logged with their duration and auto_explain's plan, in
    text then JSON) and a sort spilling to a temporary file."""
    conn.execute(SLOW_TAGGED.encode())
    conn.execute("SET auto_explain.log_format = 'json'")
    conn.execute(SLOW_TAGGED_JSON.encode())
    conn.execute("RESET auto_explain.log_format")
    conn.execute("SET work_mem = '64kB'")
    conn.execute("SELECT count(*) FROM (SELECT g FROM generate_series(1, 20000) g "
                 "ORDER BY g DESC) s")
    conn.execute("RESET work_mem")
    made["slow"] += 2


def waiting(admin: Conn, pids: list[int]) -> bool:
    """Whether every one of ``pids`` waits for a lock."""
    row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s) "
                        "AND wait_event_type = 'Lock'", (pids,)).fetchone()
    return row is not None and row[0] == len(pids)


def in_thread(dsn: str, work: Callable[[Conn], object]) -> tuple[threading.Thread, Conn, list[Any]]:
    """``work`` on a new connection in a thread; its connection and the errors it raised."""
    conn = psycopg.connect(dsn, autocommit=True)
    raised: list[Any] = []

    def run() -> None:
        try:
            work(conn)
        except psycopg.Error as exc:
            raised.append(exc.sqlstate)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, conn, raised


def lock_chain(dsn: str, admin: Conn, logged: Callable[[str], int], made: Made) -> None:
    """One session holds a row; two more queue behind it (each logged as still waiting after
    deadlock_timeout, then as acquired when the holder commits)."""
    with psycopg.connect(dsn) as holder:
        holder.execute("UPDATE lab_items SET n = n + 1 WHERE id = 7")
        threads = [in_thread(dsn, lambda c: c.execute("UPDATE lab_items SET n = n + 1 "
                                                      "WHERE id = 7")) for _ in range(2)]
        pids = [conn.info.backend_pid for _, conn, _ in threads]
        wait_until(lambda: waiting(admin, pids), what="two sessions waiting for the row")
        wait_until(lambda: logged("still waiting for") >= 2, what="the lock waits logged")
        holder.commit()
    for thread, conn, _ in threads:
        thread.join(30)
        conn.close()
    made["lock_wait"] += 2


def deadlock(dsn: str, admin: Conn, made: Made) -> None:
    """Two sessions each hold a row the other wants: the deadlock detector ends one (40P01)."""
    with psycopg.connect(dsn) as first, psycopg.connect(dsn) as second:
        first.execute("UPDATE lab_items SET n = n + 1 WHERE id = 1")
        second.execute("UPDATE lab_items SET n = n + 1 WHERE id = 2")
        raised: list[Any] = []

        def first_waits() -> None:
            try:
                first.execute("UPDATE lab_items SET n = n + 1 WHERE id = 2")
            except psycopg.Error as exc:
                raised.append(exc.sqlstate)
        thread = threading.Thread(target=first_waits, daemon=True)
        thread.start()
        wait_until(lambda: waiting(admin, [first.info.backend_pid]), what="the first to wait")
        try:
            second.execute("UPDATE lab_items SET n = n + 1 WHERE id = 1")
        except psycopg.Error as exc:
            raised.append(exc.sqlstate)
        second.rollback()
        thread.join(30)
        first.rollback()
    assert raised == ["40P01"], raised
    made["40P01"] += 1


def timeouts(dsn: str, admin: Conn, made: Made) -> None:
    """A statement cancelled by statement_timeout (57014), and a session left idle in a
    transaction ended by idle_in_transaction_session_timeout (FATAL 25P03)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET statement_timeout = '30ms'")
        try:
            conn.execute("SELECT pg_sleep(5) /* view='stuck_report' */")
        except psycopg.errors.QueryCanceled:
            made["57014"] += 1
    idle = psycopg.connect(dsn)
    pid = idle.info.backend_pid
    idle.execute("SET idle_in_transaction_session_timeout = '50ms'")  # opens the transaction
    wait_until(lambda: not still_connected(admin, [pid]), what="the idle session to be ended")
    idle.close()
    made["25P03"] += 1


def still_connected(admin: Conn, pids: list[int]) -> list[int]:
    """Those of ``pids`` still connected."""
    rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,))
    return [row[0] for row in rows]


def refusals(server: EmbeddedServer, made: Made) -> None:
    """Connections refused for lack of slots (FATAL 53300): the application role fills the
    slots left to it, is refused twice (slots reserved for superusers), then a superuser
    fills the rest and is refused once (too many clients)."""
    held: list[Conn] = []
    try:
        for user, password, refused in ((APP_ROLE, f"{APP_ROLE}-pw", 2), ("postgres", None, 1)):
            dsn = server.dsn_for(server.dbname, user=user, password=password)
            count = 0
            while count < refused:
                try:
                    held.append(psycopg.connect(dsn, autocommit=True, connect_timeout=10))
                except psycopg.OperationalError as exc:
                    assert exc.sqlstate == "53300" or "53300" in str(exc) or "slots" in str(
                        exc) or "too many" in str(exc), exc
                    count += 1
                assert len(held) < 100, "no refusal: is max_connections small?"
            made["53300"] += refused
    finally:
        for conn in held:
            conn.close()


def auth_failure(server: EmbeddedServer, made: Made) -> None:
    """A login with a wrong password (FATAL 28P01)."""
    try:
        psycopg.connect(server.dsn_for(server.dbname, user=APP_ROLE, password="wrong"),
                        connect_timeout=10).close()
    except psycopg.OperationalError:
        made["28P01"] += 1


def crash(server: EmbeddedServer, made: Made) -> None:
    """SIGKILL to a backend: the postmaster ends every process, recovers and accepts
    connections again (the log says all of it)."""
    victim = psycopg.connect(server.dsn, autocommit=True)
    os.kill(victim.info.backend_pid, signal.SIGKILL)

    def back() -> bool:
        try:
            with psycopg.connect(server.dsn, connect_timeout=2) as conn:
                row = conn.execute("SELECT NOT pg_is_in_recovery()").fetchone()
                return bool(row and row[0])
        except psycopg.OperationalError:
            return False
    wait_until(back, timeout=60, what="the server to restart after the crash")
    victim.close()
    made["crash"] += 1


def workload(server: EmbeddedServer, full: bool, logged: Callable[[str], int]) -> Made:
    """The events of one phase: all of them (``full``), or errors and slow statements."""
    made = Made()
    dsn = server.dsn_for(server.dbname, user=APP_ROLE, password=f"{APP_ROLE}-pw")
    with psycopg.connect(server.dsn, autocommit=True) as admin:
        if full:
            for statement in SETUP:
                admin.execute(statement.encode())
        with psycopg.connect(dsn, autocommit=True, application_name="shop-web") as conn:
            errors(conn, made)
        # auto_explain's format is a superuser's setting: the reports run as one
        with psycopg.connect(server.dsn, autocommit=True, application_name="shop-report") as conn:
            slow(conn, made)
        auth_failure(server, made)
        if full:
            admin.execute("CHECKPOINT")
            lock_chain(dsn, admin, logged, made)
            deadlock(dsn, admin, made)
            timeouts(dsn, admin, made)
    if full:
        refusals(server, made)
        crash(server, made)
    return made
