-- Transactions committed and rolled back in every database since the statistics were last
-- reset: two samples a second apart give transactions per second.
SELECT coalesce(sum(xact_commit), 0)::bigint AS committed,
       coalesce(sum(xact_rollback), 0)::bigint AS rolled_back
  FROM pg_stat_database
