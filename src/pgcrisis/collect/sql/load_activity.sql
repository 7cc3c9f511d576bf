-- Every other session's state and wait, read every 0.2 s over triage's load window: where the
-- active sessions' time goes (active with no wait event: on CPU), who they are, and (for the
-- call rates per client) which statement each runs or ran last (query_id stays set while a
-- session is idle, so a client looping on a fast statement is seen; none before 14).
-- pgcrisis's own sessions, this one included, are left out in Python (with their parallel
-- workers, by leader_pid), once the statements they run are noted: pgcrisis's own calls are
-- never counted as anybody's.
SELECT a.pid,
       coalesce(a.backend_type, '') AS backend_type,
       coalesce(a.application_name, '') AS application,
       coalesce(host(a.client_addr), 'local') AS address,
       coalesce(a.usename::text, '?') AS role,
       a.state,
       a.wait_event_type,
       a.wait_event,
       {activity_query_id} AS query_id,
       extract(epoch FROM a.query_start)::float8 AS query_start,
       a.leader_pid,
       a.query = '<insufficient privilege>' AS hidden
  FROM pg_stat_activity a
