INSERT INTO series (rec, t, samples, active, idle, idle_tx, waiting, refreshing, xacts,
                    job_runs, statement_ms, seconds, xact_total, runs_total, stmt_total)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (rec, t) DO UPDATE SET
    samples = excluded.samples, active = excluded.active, idle = excluded.idle,
    idle_tx = excluded.idle_tx, waiting = excluded.waiting, refreshing = excluded.refreshing,
    xacts = excluded.xacts, job_runs = excluded.job_runs,
    statement_ms = excluded.statement_ms, seconds = excluded.seconds,
    xact_total = excluded.xact_total, runs_total = excluded.runs_total,
    stmt_total = excluded.stmt_total
