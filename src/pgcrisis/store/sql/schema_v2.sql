-- Schema 2 of a recording store (both kinds; a store of schema 1 is brought up to it when a
-- recorder opens it). Times are microseconds since the Unix epoch, UTC.
-- One row a minute per recording, derived at write time (store/series.py): peaks of the
-- sessions by state, the counters' growth within the minute and their last readings.
-- Thinning leaves these rows alone; retention deletes them with the frames.
CREATE TABLE IF NOT EXISTS series (
    rec integer NOT NULL,
    t bigint NOT NULL,
    samples integer NOT NULL,
    active integer NOT NULL,
    idle integer NOT NULL,
    idle_tx integer NOT NULL,
    waiting integer NOT NULL,
    refreshing integer NOT NULL,
    xacts bigint NOT NULL,
    job_runs bigint NOT NULL,
    statement_ms double precision NOT NULL,
    seconds double precision NOT NULL,
    xact_total bigint,
    runs_total bigint,
    stmt_total double precision,
    PRIMARY KEY (rec, t)
);
-- Errors of the server's log (record --log; logs/), counted per minute and group: severity,
-- SQLSTATE, normalized statement (queryid where the log has it), application and tag (a
-- sqlcommenter-style comment in the statement). gkey is a hash of the group; sample the
-- latest message.
CREATE TABLE IF NOT EXISTS log_errors (
    rec integer NOT NULL,
    t bigint NOT NULL,
    gkey text NOT NULL,
    severity text NOT NULL,
    sqlstate text NOT NULL,
    statement text NOT NULL,
    queryid bigint,
    application text NOT NULL,
    tag text NOT NULL,
    n bigint NOT NULL,
    sample text NOT NULL,
    PRIMARY KEY (rec, t, gkey)
)
