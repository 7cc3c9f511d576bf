-- The server-wide counters that cost almost nothing to read, in one row: transactions, rows
-- and blocks of every database (pg_stat_database, the shared catalogs' row left out), WAL
-- written (fragment load_wal: pg_stat_wal, 14+), checkpoints and the buffers backends wrote
-- and fsynced themselves (load_checkpoints: pg_stat_bgwriter, pg_stat_checkpointer from 17;
-- load_backend_io: pg_stat_io, 16+). Read at both ends of triage's load window and at every
-- recorder sample: differences give rates, each counter since its reset time its usual level
-- (NULL: a reset time not known, as for a database never reset). The WAL position moves
-- while a statement runs, where pg_stat_wal counts a statement's WAL once its session goes
-- idle (NULL on a standby, which writes none of its own).
SELECT extract(epoch FROM clock_timestamp())::float8 AS at,
       extract(epoch FROM pg_postmaster_start_time())::float8 AS started_at,
       d.*, w.*, c.*, i.*,
       CASE WHEN pg_is_in_recovery() THEN NULL
            ELSE (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint END AS wal_lsn
  FROM (SELECT coalesce(sum(xact_commit), 0)::bigint AS commits,
               coalesce(sum(xact_rollback), 0)::bigint AS rollbacks,
               coalesce(sum(blks_read), 0)::bigint AS blks_read,
               coalesce(sum(blks_hit), 0)::bigint AS blks_hit,
               coalesce(sum(tup_returned), 0)::bigint AS rows_returned,
               coalesce(sum(tup_fetched), 0)::bigint AS rows_fetched,
               coalesce(sum(tup_inserted), 0)::bigint AS rows_inserted,
               coalesce(sum(tup_updated), 0)::bigint AS rows_updated,
               coalesce(sum(tup_deleted), 0)::bigint AS rows_deleted,
               coalesce(sum(temp_bytes), 0)::bigint AS temp_bytes,
               -- the latest reset of any database: the shortest span, so a usual level that
               -- is never below the true one (a storm is never made to look bigger)
               CASE WHEN bool_and(stats_reset IS NOT NULL)
                    THEN extract(epoch FROM max(stats_reset))::float8 END AS db_reset_at
          FROM pg_stat_database
         WHERE datname IS NOT NULL) d,
       ({load_wal}) w,
       ({load_checkpoints}) c,
       ({load_backend_io}) i
