-- A recording's days from a day to another (inclusive), oldest first.
SELECT day, samples, seconds, database_bytes, wal_bytes, commits, rollbacks, connections,
       active, max_connections, cpu_seconds, io_seconds, lock_seconds, xid_age,
       freeze_max_age, seized_minutes, seized_at, errors
FROM rollup_server WHERE rec = ? AND day BETWEEN ? AND ? ORDER BY day
