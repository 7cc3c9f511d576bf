SELECT t, samples, active, idle, idle_tx, waiting, refreshing, xacts, job_runs, statement_ms,
       seconds, xact_total, runs_total, stmt_total
FROM series WHERE rec = ? ORDER BY t DESC LIMIT 1
