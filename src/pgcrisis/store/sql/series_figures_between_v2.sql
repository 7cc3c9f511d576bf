-- The charted figures of a schema-2 store's per-minute series (never NULL).
SELECT t, active, idle, idle_tx, waiting, refreshing, xacts, job_runs, statement_ms, seconds
FROM series WHERE rec = ? AND t BETWEEN ? AND ? ORDER BY t
