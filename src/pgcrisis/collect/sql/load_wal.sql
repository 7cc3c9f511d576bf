-- WAL written: no pg_stat_wal before PostgreSQL 14.
SELECT NULL::bigint AS wal_bytes, NULL::float8 AS wal_reset_at
