-- The costliest statements of the current database by total execution time, one row per
-- queryid (pg_stat_statements keeps one per role and per top-level/nested execution), with JIT
-- timings, and the execution time of all top-level statements of the database (to put each in
-- proportion). {pgss} is the schema-qualified view, filled in with psycopg.sql.
WITH per_query AS (
    SELECT s.queryid,
           -- the top-level text: a nested row's text is its caller's (EXPLAIN ANALYZE ...)
           (array_agg(s.query ORDER BY s.toplevel DESC, s.calls DESC))[1] AS query,
           (array_agg(r.rolname::text ORDER BY s.total_exec_time DESC))[1] AS role,
           sum(s.calls)::bigint AS calls,
           sum(s.total_exec_time)::float8 AS total_exec_ms,
           sum(s.rows)::bigint AS rows,
           sum(s.shared_blks_hit)::bigint AS shared_blks_hit,
           sum(s.shared_blks_read)::bigint AS shared_blks_read,
           bool_or(s.toplevel) AS toplevel,
           (sum(s.total_exec_time) FILTER (WHERE s.toplevel))::float8 AS toplevel_exec_ms,
           sum(s.jit_functions)::bigint AS jit_functions,
           sum(s.jit_generation_time)::float8 AS jit_generation_ms,
           sum(s.jit_inlining_time)::float8 AS jit_inlining_ms,
           sum(s.jit_optimization_time)::float8 AS jit_optimization_ms,
           sum(s.jit_emission_time)::float8 AS jit_emission_ms,
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
