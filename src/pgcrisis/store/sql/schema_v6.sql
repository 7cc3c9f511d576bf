-- Schema 6 of a recording store (both kinds; a store of schema 5 is brought up to it when a
-- recorder opens it). A recording's days, rolled up at write time (capacity/rollup_step.py):
-- what survives retention and thinning, years of them at a few MiB. day is days since the
-- Unix epoch (UTC). A figure not measured is NULL, never 0. The SQLite store makes these
-- tables WITHOUT ROWID (store/_meta.py: their rows are their keys, stored once).
-- The names of a recording's databases, tables and sequences, stored once (name '' is the
-- database itself; db '' the recorded database).
CREATE TABLE IF NOT EXISTS rollup_names (
    rec integer NOT NULL,
    id integer NOT NULL,
    db text NOT NULL,
    name text NOT NULL,
    PRIMARY KEY (rec, id),
    UNIQUE (rec, db, name)
);
-- One row a day per recording. connections and active are histograms of the samples'
-- counts, JSON {"count": samples} (their peak and 95th percentile are read from them);
-- seized_at is the last minute counted in seized_minutes (µs). errors is added by the log's
-- writer, apart from the rest.
CREATE TABLE IF NOT EXISTS rollup_server (
    rec integer NOT NULL,
    day integer NOT NULL,
    samples integer NOT NULL,
    seconds double precision NOT NULL,
    database_bytes bigint,
    wal_bytes bigint,
    commits bigint,
    rollbacks bigint,
    connections text NOT NULL,
    active text NOT NULL,
    max_connections integer,
    cpu_seconds double precision,
    io_seconds double precision,
    lock_seconds double precision,
    xid_age bigint,
    freeze_max_age bigint,
    errors bigint,
    seized_minutes integer NOT NULL,
    seized_at bigint,
    PRIMARY KEY (rec, day)
);
-- One row a day per database (obj: its name in rollup_names) and per table.
CREATE TABLE IF NOT EXISTS rollup_databases (
    rec integer NOT NULL,
    day integer NOT NULL,
    obj integer NOT NULL,
    bytes bigint,
    inserted bigint,
    updated bigint,
    deleted bigint,
    PRIMARY KEY (rec, day, obj)
);
CREATE TABLE IF NOT EXISTS rollup_tables (
    rec integer NOT NULL,
    day integer NOT NULL,
    obj integer NOT NULL,
    bytes bigint,
    inserted bigint,
    updated bigint,
    deleted bigint,
    PRIMARY KEY (rec, day, obj)
);
-- A sequence's value at the day's last reading, and the value it cannot pass.
CREATE TABLE IF NOT EXISTS rollup_sequences (
    rec integer NOT NULL,
    day integer NOT NULL,
    obj integer NOT NULL,
    last_value bigint NOT NULL,
    max_value bigint NOT NULL,
    PRIMARY KEY (rec, day, obj)
);
-- The recordings whose rollups were rebuilt from their samples: rebuilt is when (µs), NULL
-- while still to do (every recording of a store made before rollups: its writer rebuilds
-- them when it next opens the recording; until then a reader folds the samples itself).
CREATE TABLE IF NOT EXISTS rollup_rebuild (
    rec integer NOT NULL,
    rebuilt bigint,
    PRIMARY KEY (rec)
);
INSERT INTO rollup_rebuild (rec, rebuilt) SELECT id, NULL FROM recordings
