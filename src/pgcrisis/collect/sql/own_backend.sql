-- When this session's backend started (server clock, seconds since the epoch): to tell
-- whether the process with its pid on this machine is that backend (the server's CPUs are
-- then this machine's).
SELECT extract(epoch FROM backend_start)::float8 AS backend_start
  FROM pg_stat_activity
 WHERE pid = pg_backend_pid()
