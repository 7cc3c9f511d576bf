-- Every statement's counters per role, summed over the databases, top-level calls only (a
-- nested call is part of its caller's), with the time JIT compilation took: read at both
-- ends of triage's load window (and at a recorder's full samples) and differenced: who
-- caused the load, not who ran most since the last reset. {pgss} is the schema-qualified
-- view, filled in with psycopg.sql; temp_bytes counts temp_blks_written in bytes.
SELECT r.rolname::text AS role,
       s.queryid,
       sum(s.calls)::float8 AS calls,
       sum(s.total_exec_time)::float8 AS exec_ms,
       sum(s.rows)::float8 AS rows,
       sum(s.shared_blks_hit)::float8 AS shared_blks_hit,
       sum(s.shared_blks_read)::float8 AS shared_blks_read,
       sum(s.shared_blks_written)::float8 AS shared_blks_written,
       sum(s.shared_blks_dirtied)::float8 AS shared_blks_dirtied,
       (sum(s.temp_blks_written) * current_setting('block_size')::int)::float8 AS temp_bytes,
       sum(s.wal_bytes)::float8 AS wal_bytes,
       sum(s.jit_generation_time + s.jit_inlining_time + s.jit_optimization_time
           + s.jit_emission_time)::float8 AS jit_ms
  FROM {pgss} s
  JOIN pg_roles r ON r.oid = s.userid
 WHERE s.toplevel AND s.queryid IS NOT NULL
 GROUP BY r.rolname, s.queryid
