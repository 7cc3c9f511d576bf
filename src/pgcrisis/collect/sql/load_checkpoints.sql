-- Checkpoints timed and requested, and the buffers backends wrote and fsynced themselves.
SELECT checkpoints_timed, checkpoints_req AS checkpoints_requested, buffers_backend,
       buffers_backend_fsync, extract(epoch FROM stats_reset)::float8 AS checkpoints_reset_at,
       extract(epoch FROM stats_reset)::float8 AS bgwriter_reset_at
  FROM pg_stat_bgwriter
