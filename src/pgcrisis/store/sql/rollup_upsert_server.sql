-- A recording's day (store/_rollups.py), every figure but the log's errors (added apart).
INSERT INTO rollup_server (rec, day, samples, seconds, database_bytes, wal_bytes, commits,
                           rollbacks, connections, active, max_connections, cpu_seconds,
                           io_seconds, lock_seconds, xid_age, freeze_max_age, seized_minutes,
                           seized_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (rec, day) DO UPDATE SET
    samples = excluded.samples, seconds = excluded.seconds,
    database_bytes = excluded.database_bytes, wal_bytes = excluded.wal_bytes,
    commits = excluded.commits, rollbacks = excluded.rollbacks,
    connections = excluded.connections, active = excluded.active,
    max_connections = excluded.max_connections, cpu_seconds = excluded.cpu_seconds,
    io_seconds = excluded.io_seconds, lock_seconds = excluded.lock_seconds,
    xid_age = excluded.xid_age, freeze_max_age = excluded.freeze_max_age,
    seized_minutes = excluded.seized_minutes, seized_at = excluded.seized_at
