INSERT INTO series (rec, t, samples, active, idle, idle_tx, waiting, refreshing, xacts,
                    job_runs, statement_ms, seconds, xact_total, runs_total, stmt_total,
                    load_samples, load_cpu, load_io, load_lock, load_lwlock, load_ipc,
                    load_client, load_other, cpus, stmt_seconds, stmt_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (rec, t) DO UPDATE SET
    samples = excluded.samples, active = excluded.active, idle = excluded.idle,
    idle_tx = excluded.idle_tx, waiting = excluded.waiting, refreshing = excluded.refreshing,
    xacts = excluded.xacts, job_runs = excluded.job_runs,
    statement_ms = excluded.statement_ms, seconds = excluded.seconds,
    xact_total = excluded.xact_total, runs_total = excluded.runs_total,
    stmt_total = excluded.stmt_total, load_samples = excluded.load_samples,
    load_cpu = excluded.load_cpu, load_io = excluded.load_io, load_lock = excluded.load_lock,
    load_lwlock = excluded.load_lwlock, load_ipc = excluded.load_ipc,
    load_client = excluded.load_client, load_other = excluded.load_other,
    cpus = excluded.cpus, stmt_seconds = excluded.stmt_seconds, stmt_at = excluded.stmt_at
