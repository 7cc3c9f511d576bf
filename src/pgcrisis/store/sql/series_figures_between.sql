-- The charted figures of the stored per-minute series, for reading as columns (a schema-3
-- store's; series_figures_between_v2: a schema-2 store's). Only cpus and stmt_at may be NULL.
SELECT t, active, idle, idle_tx, waiting, refreshing, xacts, job_runs, statement_ms, seconds,
       load_samples, load_cpu, load_io, load_lock, load_lwlock, load_ipc, load_client,
       load_other, cpus, stmt_seconds, stmt_at
FROM series WHERE rec = ? AND t BETWEEN ? AND ? ORDER BY t
