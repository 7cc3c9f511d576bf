-- Checkpoints from pg_stat_checkpointer (17+); pg_stat_bgwriter no longer counts the
-- buffers backends write themselves (pg_stat_io does).
SELECT num_timed AS checkpoints_timed, num_requested AS checkpoints_requested,
       NULL::bigint AS buffers_backend, NULL::bigint AS buffers_backend_fsync,
       extract(epoch FROM stats_reset)::float8 AS checkpoints_reset_at,
       NULL::float8 AS bgwriter_reset_at
  FROM pg_stat_checkpointer
