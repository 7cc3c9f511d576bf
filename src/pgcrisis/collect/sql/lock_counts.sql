-- pg_locks rows per backend: every lock type, granted or not (a leaked-statement bug shows
-- here as one transaction with hundreds of rows).
SELECT l.pid,
       count(*)::int AS total,
       count(*) FILTER (WHERE l.granted)::int AS granted,
       count(*) FILTER (WHERE NOT l.granted)::int AS waiting,
       count(*) FILTER (WHERE l.locktype = 'relation')::int AS relations
  FROM pg_locks l
 WHERE l.pid IS NOT NULL
 GROUP BY l.pid
