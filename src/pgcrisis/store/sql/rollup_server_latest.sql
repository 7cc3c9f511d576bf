-- The days of several recordings from a day on (a fleet's page: one indexed range each).
SELECT rec, day, samples, seconds, database_bytes, wal_bytes, commits, rollbacks,
       connections, active, max_connections, cpu_seconds, io_seconds, lock_seconds, xid_age,
       freeze_max_age, seized_minutes, seized_at, errors
FROM rollup_server WHERE rec IN ({ids}) AND day >= ? ORDER BY rec, day
