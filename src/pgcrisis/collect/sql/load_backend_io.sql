-- The buffers client backends wrote and fsynced: no pg_stat_io before PostgreSQL 16.
SELECT NULL::bigint AS backend_writes, NULL::bigint AS backend_fsyncs,
       NULL::float8 AS io_reset_at
