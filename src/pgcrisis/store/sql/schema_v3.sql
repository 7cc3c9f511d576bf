-- Schema 3 of a recording store (both kinds; a store of schema 2 is brought up to it when a
-- recorder opens it). The per-minute series keeps the load (store/series.py): load_samples
-- counts the minute's samples with a load profile, load_<class> sums their average active
-- sessions in each wait class shown (CPU, IO, Lock, LWLock, IPC, Client, Other), cpus is the
-- CPU count they were set against (NULL: not known). stmt_seconds is the time the minute's
-- statement_ms covers (statements are read once a minute: from the reading before),
-- stmt_at the time of its last reading. Minutes written before read as no load.
ALTER TABLE series ADD COLUMN load_samples integer NOT NULL DEFAULT 0;
ALTER TABLE series ADD COLUMN load_cpu double precision NOT NULL DEFAULT 0;
ALTER TABLE series ADD COLUMN load_io double precision NOT NULL DEFAULT 0;
ALTER TABLE series ADD COLUMN load_lock double precision NOT NULL DEFAULT 0;
ALTER TABLE series ADD COLUMN load_lwlock double precision NOT NULL DEFAULT 0;
ALTER TABLE series ADD COLUMN load_ipc double precision NOT NULL DEFAULT 0;
ALTER TABLE series ADD COLUMN load_client double precision NOT NULL DEFAULT 0;
ALTER TABLE series ADD COLUMN load_other double precision NOT NULL DEFAULT 0;
ALTER TABLE series ADD COLUMN cpus integer;
ALTER TABLE series ADD COLUMN stmt_seconds double precision NOT NULL DEFAULT 0;
ALTER TABLE series ADD COLUMN stmt_at bigint
