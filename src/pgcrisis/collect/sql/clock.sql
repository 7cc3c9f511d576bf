-- The server's clock and start time: every sample is timed by the server (a skewed client
-- clock would shift every finding), and a changed start time means every counter restarted.
SELECT now() AS server_time, pg_postmaster_start_time() AS started_at
