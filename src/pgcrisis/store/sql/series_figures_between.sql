-- The charted figures of the stored per-minute series (never NULL), for reading as columns.
SELECT t, active, idle, idle_tx, waiting, refreshing, xacts, job_runs, statement_ms, seconds
FROM series WHERE rec = ? AND t BETWEEN ? AND ? ORDER BY t
