-- Schema 5 of a recording store (both kinds; a store of schema 4 is brought up to it when a
-- recorder opens it). The log's errors are counted per role and database too (their rows
-- counted before read as role and database ''; a group with neither keeps its gkey).
ALTER TABLE log_errors ADD COLUMN role_name text NOT NULL DEFAULT '';
ALTER TABLE log_errors ADD COLUMN db_name text NOT NULL DEFAULT '';
-- Slow statements of the server's log (log_min_duration_statement, auto_explain), counted per
-- minute and group: normalized statement, queryid, tag, application, role and database
-- (gkey: a hash of them). n statements took total_ms in all, max_ms the longest; histogram is
-- their durations in fixed log-scale buckets, JSON {"bucket": count} (store/histogram.py), so
-- a percentile can be read over any range; plan the content id (the content table: stored
-- once) of the latest plan logged for the group in the minute, NULL when none was.
CREATE TABLE IF NOT EXISTS log_slow (
    rec integer NOT NULL,
    t bigint NOT NULL,
    gkey text NOT NULL,
    statement text NOT NULL,
    queryid bigint,
    tag text NOT NULL,
    application text NOT NULL,
    role_name text NOT NULL,
    db_name text NOT NULL,
    n bigint NOT NULL,
    total_ms double precision NOT NULL,
    max_ms double precision NOT NULL,
    histogram text NOT NULL,
    plan bigint,
    PRIMARY KEY (rec, t, gkey)
)
