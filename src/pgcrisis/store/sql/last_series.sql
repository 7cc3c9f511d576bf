SELECT t, samples, active, idle, idle_tx, waiting, refreshing, xacts, job_runs, statement_ms,
       seconds, xact_total, runs_total, stmt_total, load_samples, load_cpu, load_io,
       load_lock, load_lwlock, load_ipc, load_client, load_other, cpus, stmt_seconds, stmt_at
FROM series WHERE rec = ? ORDER BY t DESC LIMIT 1
