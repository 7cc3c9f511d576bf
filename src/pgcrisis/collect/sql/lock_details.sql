-- Locks that are awaited, and relation locks held in strong modes (DDL, REFRESH, LOCK TABLE):
-- enough to name what a waiter waits for and who holds the heavy lock.
SELECT l.pid,
       l.locktype,
       l.mode,
       l.granted,
       CASE WHEN c.oid IS NOT NULL THEN quote_ident(n.nspname) || '.' || quote_ident(c.relname) END AS relation,
       c.relkind::text AS relkind
  FROM pg_locks l
  LEFT JOIN pg_class c
         ON l.locktype = 'relation' AND c.oid = l.relation
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE l.pid IS NOT NULL
   AND (NOT l.granted
        OR (l.locktype = 'relation'
            AND l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock',
                           'AccessExclusiveLock')))
