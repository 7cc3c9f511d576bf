-- The buffers client backends wrote and fsynced themselves (pg_stat_io).
SELECT sum(writes)::bigint AS backend_writes, sum(fsyncs)::bigint AS backend_fsyncs,
       extract(epoch FROM max(stats_reset))::float8 AS io_reset_at
  FROM pg_stat_io
 WHERE backend_type = 'client backend'
