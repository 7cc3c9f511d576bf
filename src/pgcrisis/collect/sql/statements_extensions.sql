-- The schemas pg_stat_statements and hypopg are installed in (their objects are qualified with
-- it: the search_path of a diagnostic session is not to be trusted).
SELECT e.extname::text AS extname,
       n.nspname::text AS schema
  FROM pg_extension e
  JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname IN ('pg_stat_statements', 'hypopg')
