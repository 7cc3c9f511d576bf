"""The small ``pgcrisis`` schema: refresh durations, dirty marks, and the pg_cron chain.

* ``pgcrisis.refresh_log``: one row per refresh attempt (who, how long, how it ended); the
  planner reads measured durations from it.
* ``pgcrisis.dirty``: marks written by the watch triggers, one per writing statement
  (append-only, so writers never wait on each other); the source of truth for ``watch``.
  ``wave`` is set when a watch worker claims a mark and the mark is deleted once its view is
  refreshed: a worker that dies leaves its marks behind for the next one.
* ``pgcrisis.mark_dirty()``: the statement-level trigger function. It NOTIFYs only while the
  notification queue is under half full, so a listener that dies or stalls can never make
  a writer's commit fail (the mark is in the table either way).
* ``pgcrisis.refresh_chain(...)``: what the pg_cron jobs of a plan ``CALL``: each view in its
  own transaction, after its bases from other chains finished in this cycle, CONCURRENTLY
  when it can, under the same advisory lock ``cache refresh`` takes (skip, never queue).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from pgcrisis.actions import apply
from pgcrisis.errors import PgcrisisError

#: the schema's version, kept as its comment: an older one is upgraded in place
VERSION = "pgcrisis cache schema 1"
#: first key of the advisory locks refreshes take (second key: the view's oid); 'pgcr'
LOCK_CLASS = 0x70676372
#: second key of the lock guarding schema installation, and of the single watch worker
INSTALL_LOCK = 0
WATCH_LOCK = 1
#: the NOTIFY channel watch listens on
CHANNEL = "pgcrisis_cache"

STATEMENTS: tuple[str, ...] = (
    "CREATE SCHEMA IF NOT EXISTS pgcrisis",
    """CREATE TABLE IF NOT EXISTS pgcrisis.refresh_log (
    id bigserial PRIMARY KEY,
    view text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    duration_s float8,
    status text NOT NULL,
    concurrent boolean NOT NULL DEFAULT false,
    source text NOT NULL,
    error text NOT NULL DEFAULT '')""",
    "CREATE INDEX IF NOT EXISTS refresh_log_view ON pgcrisis.refresh_log (view, id)",
    """CREATE TABLE IF NOT EXISTS pgcrisis.dirty (
    id bigserial PRIMARY KEY,
    view text NOT NULL,
    marked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    wave bigint)""",
    "CREATE INDEX IF NOT EXISTS dirty_view ON pgcrisis.dirty (view, id)",
    f"""CREATE OR REPLACE FUNCTION pgcrisis.mark_dirty() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pgcrisis AS $$
DECLARE
    v text;
BEGIN
    FOREACH v IN ARRAY TG_ARGV LOOP
        INSERT INTO pgcrisis.dirty (view) VALUES (v);
    END LOOP;
    IF pg_notification_queue_usage() < 0.5 THEN
        PERFORM pg_notify('{CHANNEL}', '');
    END IF;
    RETURN NULL;
END $$""",
    f"""CREATE OR REPLACE PROCEDURE pgcrisis.refresh_chain(
    views text[], waits text[], window_start time,
    max_wait_s float8 DEFAULT 14400, allow_plain boolean DEFAULT false,
    lock_timeout_ms int DEFAULT 5000, retries int DEFAULT 3)
LANGUAGE plpgsql AS $$
DECLARE
    since timestamptz := date_trunc('day', now()) + window_start;
    deadline timestamptz;
    i int;
    attempt int;
    v text;
    b text;
    rel regclass;
    ready boolean;
    t0 timestamptz;
    outcome text;
    message text;
BEGIN
    IF since > now() THEN
        since := since - interval '1 day';
    END IF;
    FOR i IN 1 .. coalesce(array_length(views, 1), 0) LOOP
        v := views[i];
        deadline := clock_timestamp() + make_interval(secs => max_wait_s);
        FOREACH b IN ARRAY string_to_array(coalesce(waits[i], ''), ',') LOOP
            WHILE NOT EXISTS (SELECT 1 FROM pgcrisis.refresh_log l
                               WHERE l.view = b AND l.status = 'refreshed'
                                 AND l.finished_at >= since)
                  AND clock_timestamp() < deadline LOOP
                COMMIT;
                PERFORM pg_sleep(1);
            END LOOP;
        END LOOP;
        rel := to_regclass(v);
        t0 := clock_timestamp();
        message := '';
        IF rel IS NULL THEN
            outcome := 'failed';
            message := 'no such view';
        ELSIF NOT pg_try_advisory_lock({LOCK_CLASS}, rel::oid::int) THEN
            outcome := 'busy';
        ELSE
            SELECT c.relispopulated AND EXISTS (
                       SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indisunique
                          AND x.indisvalid AND x.indpred IS NULL AND x.indexprs IS NULL)
              INTO ready FROM pg_class c WHERE c.oid = rel;
            IF NOT ready AND NOT allow_plain THEN
                outcome := 'unready';
            ELSE
                attempt := 0;
                LOOP
                    attempt := attempt + 1;
                    BEGIN
                        PERFORM set_config('lock_timeout', lock_timeout_ms::text, true);
                        IF ready THEN
                            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', rel);
                        ELSE
                            EXECUTE format('REFRESH MATERIALIZED VIEW %s', rel);
                        END IF;
                        outcome := 'refreshed';
                        EXIT;
                    EXCEPTION WHEN lock_not_available THEN
                        IF attempt > retries THEN
                            outcome := 'failed';
                            message := SQLERRM;
                            EXIT;
                        END IF;
                        PERFORM pg_sleep(random() * attempt);
                    WHEN OTHERS THEN
                        outcome := 'failed';
                        message := SQLERRM;
                        EXIT;
                    END;
                END LOOP;
            END IF;
            PERFORM pg_advisory_unlock({LOCK_CLASS}, rel::oid::int);
        END IF;
        INSERT INTO pgcrisis.refresh_log (view, started_at, finished_at, duration_s, status,
                                          concurrent, source, error)
        VALUES (v, t0, clock_timestamp(), extract(epoch FROM clock_timestamp() - t0),
                outcome, coalesce(ready, false), 'pg_cron', message);
        COMMIT;
    END LOOP;
END $$""",
    f"COMMENT ON SCHEMA pgcrisis IS '{VERSION}'",
)


def installed(conn: psycopg.Connection[Any]) -> bool:
    """Whether this version of the schema is in place."""
    row = conn.execute(
        "SELECT obj_description(to_regnamespace('pgcrisis'), 'pg_namespace')").fetchone()
    return bool(row and row[0] == VERSION)


def ensure_schema(conn: psycopg.Connection[Any], show: Callable[[str], None] | None = None) -> bool:
    """Install (or upgrade) the schema when it is missing; True when it did.

    Serialized by an advisory lock, so two first runs at once do not collide.
    """
    if installed(conn):
        return False
    conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_CLASS, INSTALL_LOCK))
    try:
        if installed(conn):
            return False
        results = apply(conn, STATEMENTS, reason="cache: install the pgcrisis schema", show=show)
        failed = [r for r in results if not r.ok]
        if failed:
            raise PgcrisisError(f"could not install the pgcrisis schema: {failed[0].error}")
        return True
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, INSTALL_LOCK))
