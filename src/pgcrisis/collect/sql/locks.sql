-- pg_locks read once per sample (it takes every lock-manager partition lock, and on a busy
-- server it is most of a sample's cost besides pg_stat_activity). Two kinds of rows:
--   'count':  per backend, its pg_locks rows of every lock type, granted or not (a
--             leaked-statement bug shows here as one transaction with hundreds of rows);
--   'detail': the locks that are awaited, and relation locks held in strong modes (DDL,
--             REFRESH, LOCK TABLE): enough to name what a waiter waits for and who holds the
--             heavy lock. An awaited lock names its relation wherever pg_locks has one (a
--             relation, its extension, a page, a row: 'tuple'); a row's updater, awaited as
--             a 'transactionid', by the row lock ('tuple') the waiter holds on its relation
--             (the first waiter for a row takes it, then waits for the updater to finish).
WITH l AS MATERIALIZED (
    SELECT pid, locktype, mode, granted, relation, database
      FROM pg_locks
     WHERE pid IS NOT NULL
)
SELECT 'count' AS row_kind,
       l.pid,
       count(*)::int AS total,
       count(*) FILTER (WHERE l.granted)::int AS granted_count,
       count(*) FILTER (WHERE NOT l.granted)::int AS waiting,
       count(*) FILTER (WHERE l.locktype = 'relation')::int AS relations,
       NULL::text AS locktype,
       NULL::text AS mode,
       NULL::boolean AS granted,
       NULL::text AS relation,
       NULL::text AS relkind
  FROM l
 GROUP BY l.pid
UNION ALL
SELECT 'detail',
       l.pid,
       NULL, NULL, NULL, NULL,
       l.locktype,
       l.mode,
       l.granted,
       CASE WHEN c.oid IS NOT NULL THEN quote_ident(n.nspname) || '.' || quote_ident(c.relname) END,
       c.relkind::text
  FROM l
  LEFT JOIN LATERAL (
        SELECT r.relation, r.database
          FROM l r
         WHERE l.locktype = 'transactionid' AND NOT l.granted
           AND r.pid = l.pid AND r.locktype = 'tuple' AND r.granted
         LIMIT 1) held ON true
  LEFT JOIN pg_class c
         ON c.oid = coalesce(l.relation, held.relation)
        AND coalesce(l.database, held.database)
            = (SELECT oid FROM pg_database WHERE datname = current_database())
  LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT l.granted
    OR (l.locktype = 'relation'
        AND l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock',
                       'AccessExclusiveLock'))
