-- The costliest statements of the current database by total execution time (PostgreSQL 13
-- and 14: no JIT columns, every row counted as top-level), one row per queryid, and the
-- execution time of all statements of the database. {pgss} is filled in with psycopg.sql.
WITH per_query AS (
    SELECT s.queryid,
           (array_agg(s.query ORDER BY s.calls DESC))[1] AS query,
           (array_agg(r.rolname::text ORDER BY s.total_exec_time DESC))[1] AS role,
           sum(s.calls)::bigint AS calls,
           sum(s.total_exec_time)::float8 AS total_exec_ms,
           sum(s.rows)::bigint AS rows,
           sum(s.shared_blks_hit)::bigint AS shared_blks_hit,
           sum(s.shared_blks_read)::bigint AS shared_blks_read,
           true AS toplevel,
           sum(s.total_exec_time)::float8 AS toplevel_exec_ms,
           sum(s.total_plan_time)::float8 AS total_plan_ms
      FROM {pgss} s
      LEFT JOIN pg_roles r ON r.oid = s.userid
     WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND s.queryid IS NOT NULL
     GROUP BY s.queryid
)
SELECT q.*,
       (q.total_exec_ms / greatest(q.calls, 1))::float8 AS mean_exec_ms,
       coalesce(sum(q.toplevel_exec_ms) OVER (), 0)::float8 AS db_total_exec_ms
  FROM per_query q
 ORDER BY q.total_exec_ms DESC
 LIMIT %(limit)s
