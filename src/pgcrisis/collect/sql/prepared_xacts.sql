-- Prepared transactions hold locks with no session behind them (pid 0 in pg_blocking_pids);
-- the relations they lock name which one a waiter is stuck behind. Their locks keep the
-- virtual transaction id they had before PREPARE, so find it through the transaction-id lock
-- the prepared transaction holds on itself.
WITH vxid AS (
    SELECT l.transactionid::text AS xid, l.virtualtransaction
      FROM pg_locks l
     WHERE l.locktype = 'transactionid' AND l.pid IS NULL AND l.granted
)
SELECT p.gid,
       p.owner::text AS owner,
       p.database::text AS database,
       extract(epoch FROM now() - p.prepared)::float8 AS age_s,
       p.transaction::text::bigint AS transaction,
       coalesce((SELECT array_agg(DISTINCT quote_ident(n.nspname) || '.' || quote_ident(c.relname))
                   FROM pg_locks l
                   JOIN vxid v ON v.virtualtransaction = l.virtualtransaction
                   JOIN pg_class c ON c.oid = l.relation
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE v.xid = p.transaction::text
                    AND l.pid IS NULL
                    AND l.locktype = 'relation'
                    AND n.nspname NOT IN ('pg_catalog', 'information_schema')),
                '{}') AS relations,
       (SELECT count(*)::int FROM pg_locks l
          JOIN vxid v ON v.virtualtransaction = l.virtualtransaction
         WHERE v.xid = p.transaction::text AND l.pid IS NULL) AS locks
  FROM pg_prepared_xacts p
