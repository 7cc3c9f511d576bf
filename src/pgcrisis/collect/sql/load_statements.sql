-- Every statement's counters per role, summed over the databases, top-level calls only
-- (fragment load_toplevel: PostgreSQL 13 cannot tell them from nested ones, and tracks top-level ones
-- by default), with the time JIT compilation took (load_jit: 15+). Read at both ends of
-- triage's load window (and at a recorder's full samples) and differenced: who caused the
-- load, not who ran most since the last reset. {pgss} is the schema-qualified function, filled
-- in with psycopg.sql, called without the texts (reading them costs a pass over a file);
-- temp_bytes counts temp_blks_written in bytes. The counters come in the order of
-- model/load.py's StatementCounters (read as tuples).
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
       {load_jit} AS jit_ms
  FROM {pgss}(false) s
  JOIN pg_roles r ON r.oid = s.userid
 WHERE {load_toplevel} AND s.queryid IS NOT NULL
 GROUP BY r.rolname, s.queryid
