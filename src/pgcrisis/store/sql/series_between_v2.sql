-- The per-minute series of a schema-2 store (before the load was kept).
SELECT t, samples, active, idle, idle_tx, waiting, refreshing, xacts, job_runs, statement_ms,
       seconds, xact_total, runs_total, stmt_total
FROM series WHERE rec = ? AND t BETWEEN ? AND ? ORDER BY t
