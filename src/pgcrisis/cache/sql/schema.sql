-- The pgcrisis schema (installed by `pgcrisis cache` on first use, shown and journaled; its
-- version is its comment, set after these statements). `{channel}` and `{lock_class}` are
-- filled in by cache/apply/schema.py: the NOTIFY channel watch listens on, and the first key
-- of every advisory lock a refresh takes.

CREATE SCHEMA IF NOT EXISTS pgcrisis;

-- One row per refresh attempt: who, how long, how it ended (the planner's measured durations).
CREATE TABLE IF NOT EXISTS pgcrisis.refresh_log (
    id bigserial PRIMARY KEY,
    view text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    duration_s float8,
    status text NOT NULL,
    concurrent boolean NOT NULL DEFAULT false,
    source text NOT NULL,
    error text NOT NULL DEFAULT '');

CREATE INDEX IF NOT EXISTS refresh_log_view ON pgcrisis.refresh_log (view, id);

-- Dirty marks written by the watch triggers, one per writing statement (append-only); `wave`
-- is set when a watch worker claims a mark, which is deleted once its view is refreshed.
CREATE TABLE IF NOT EXISTS pgcrisis.dirty (
    id bigserial PRIMARY KEY,
    view text NOT NULL,
    marked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    wave bigint);

CREATE INDEX IF NOT EXISTS dirty_view ON pgcrisis.dirty (view, id);

-- The statement-level trigger function of the watch triggers: marks every view it names, and
-- NOTIFYs only while the notification queue is under half full.
CREATE OR REPLACE FUNCTION pgcrisis.mark_dirty() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pgcrisis AS $$
DECLARE
    v text;
BEGIN
    FOREACH v IN ARRAY TG_ARGV LOOP
        INSERT INTO pgcrisis.dirty (view) VALUES (v);
    END LOOP;
    IF pg_notification_queue_usage() < 0.5 THEN
        PERFORM pg_notify({channel}, '');
    END IF;
    RETURN NULL;
END $$;

-- What the pg_cron jobs of a plan CALL: each view in its own transaction, after its bases from
-- other chains finished in this cycle, CONCURRENTLY when it can, under the advisory lock
-- `cache refresh` takes (skip when busy, never queue).
CREATE OR REPLACE PROCEDURE pgcrisis.refresh_chain(
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
        ELSIF NOT pg_try_advisory_lock({lock_class}, rel::oid::int) THEN
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
            PERFORM pg_advisory_unlock({lock_class}, rel::oid::int);
        END IF;
        INSERT INTO pgcrisis.refresh_log (view, started_at, finished_at, duration_s, status,
                                          concurrent, source, error)
        VALUES (v, t0, clock_timestamp(), extract(epoch FROM clock_timestamp() - t0),
                outcome, coalesce(ready, false), 'pg_cron', message);
        COMMIT;
    END LOOP;
END $$;
