-- Who is connected and which statement each ran last (query_id stays set while idle), read
-- several times over a --sample window to attribute pg_stat_statements calls to clients.
SELECT a.pid,
       coalesce(a.application_name, '') AS application,
       coalesce(host(a.client_addr), 'local') AS address,
       coalesce(a.usename::text, '?') AS role,
       a.query_id,
       extract(epoch FROM a.query_start)::float8 AS query_start
  FROM pg_stat_activity a
 WHERE a.backend_type = 'client backend'
   AND a.pid <> pg_backend_pid()
   AND a.application_name IS DISTINCT FROM 'pgcrisis'
