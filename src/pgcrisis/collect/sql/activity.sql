-- Every other session, with ages measured by the server; blockers only for lock waiters
-- (pg_blocking_pids takes the lock manager's partition locks, so call it sparingly), and the
-- queryid of the statement each runs or ran last (fragment activity_query_id: none before 14).
SELECT a.pid,
       a.datname::text AS datname,
       a.usename::text AS usename,
       coalesce(a.application_name, '') AS application_name,
       host(a.client_addr) AS client_addr,
       coalesce(a.backend_type, '') AS backend_type,
       a.state,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_age_s,
       extract(epoch FROM now() - a.query_start)::float8 AS query_age_s,
       extract(epoch FROM now() - a.state_change)::float8 AS state_age_s,
       a.wait_event_type,
       a.wait_event,
       left(coalesce(a.query, ''), 4000) AS query,
       CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) ELSE ARRAY[]::int[] END
           AS blocked_by,
       age(a.backend_xid) AS backend_xid_age,
       age(a.backend_xmin) AS backend_xmin_age,
       extract(epoch FROM now() - a.backend_start)::float8 AS backend_age_s,
       {activity_query_id} AS query_id
  FROM pg_stat_activity a
 WHERE a.pid <> pg_backend_pid()
