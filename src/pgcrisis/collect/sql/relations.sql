-- User tables, partitioned tables and materialized views, sized from relpages/reltuples
-- (pg_relation_size would wait behind a queued ACCESS EXCLUSIVE lock), with their scan counters.
-- relpages is 0 (reltuples -1 on 14+) until a VACUUM, ANALYZE or CREATE INDEX measures a table.
SELECT c.oid::bigint AS oid,
       n.nspname::text AS schema,
       c.relname::text AS relname,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
       c.relkind::text AS relkind,
       greatest(c.relpages, 0)::bigint AS relpages,
       greatest(c.reltuples, 0)::float8 AS reltuples,
       coalesce(s.seq_scan, 0)::bigint AS seq_scan,
       coalesce(s.seq_tup_read, 0)::bigint AS seq_tup_read,
       coalesce(s.idx_scan, 0)::bigint AS idx_scan,
       coalesce(s.n_live_tup, 0)::bigint AS n_live_tup,
       coalesce(s.n_tup_upd, 0)::bigint AS n_tup_upd,
       coalesce(s.n_tup_del, 0)::bigint AS n_tup_del,
       coalesce(s.n_tup_ins, 0)::bigint AS n_tup_ins,
       coalesce(s.idx_tup_fetch, 0)::bigint AS idx_tup_fetch
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
 WHERE c.relkind IN ('r', 'p', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp_)'
