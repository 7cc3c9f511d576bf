-- REFRESH MATERIALIZED VIEW statements pg_stat_statements saw in this database, with their
-- mean, standard deviation and maximum execution time (ms).
SELECT s.query, s.calls::bigint AS calls, s.mean_exec_time::float8 AS mean_ms,
       s.stddev_exec_time::float8 AS stddev_ms, s.max_exec_time::float8 AS max_ms
  FROM pg_stat_statements s
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND s.query ~* '^\s*refresh\s+materialized\s+view'
