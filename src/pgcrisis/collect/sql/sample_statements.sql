-- Calls and execution time per role and statement, every database, top-level statements only
-- (a nested call is part of its caller's). Read twice, at both ends of a --sample window.
-- {pgss} is the schema-qualified view, filled in with psycopg.sql.
SELECT r.rolname::text AS role,
       s.queryid,
       sum(s.calls)::float8 AS calls,
       sum(s.total_exec_time)::float8 AS exec_ms
  FROM {pgss} s
  JOIN pg_roles r ON r.oid = s.userid
 WHERE s.toplevel AND s.queryid IS NOT NULL
 GROUP BY r.rolname, s.queryid
