-- The per-minute series of a schema-3 store (series_between_v2: a schema-2 store's).
SELECT t, samples, active, idle, idle_tx, waiting, refreshing, xacts, job_runs, statement_ms,
       seconds, xact_total, runs_total, stmt_total, load_samples, load_cpu, load_io,
       load_lock, load_lwlock, load_ipc, load_client, load_other, cpus, stmt_seconds, stmt_at
FROM series WHERE rec = ? AND t BETWEEN ? AND ? ORDER BY t
