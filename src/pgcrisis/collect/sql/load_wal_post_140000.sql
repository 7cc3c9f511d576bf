-- WAL written since pg_stat_wal's reset.
SELECT wal_bytes::bigint AS wal_bytes, extract(epoch FROM stats_reset)::float8 AS wal_reset_at
  FROM pg_stat_wal
