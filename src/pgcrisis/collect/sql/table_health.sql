-- Vacuum and ANALYZE state of the tables that have anything to say: dead rows, rows changed
-- since the last ANALYZE, per-table autovacuum settings, never measured (relpages 0, reltuples
-- -1 on 14+ or 0 before) though their counters show rows, and the few with the oldest
-- relfrozenxid (they set the database's transaction-ID age). Sizes from relpages/reltuples.
WITH oldest AS (
    SELECT c.oid
      FROM pg_class c
     WHERE c.relkind IN ('r', 'm', 't')
     ORDER BY age(c.relfrozenxid) DESC
     LIMIT 5
)
SELECT c.oid::bigint AS oid,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
       c.relkind::text AS relkind,
       greatest(c.relpages, 0)::bigint AS relpages,
       c.reltuples::float8 AS reltuples,
       coalesce(s.n_live_tup, 0)::bigint AS n_live_tup,
       coalesce(s.n_dead_tup, 0)::bigint AS n_dead_tup,
       coalesce(s.n_mod_since_analyze, 0)::bigint AS n_mod_since_analyze,
       extract(epoch FROM now() - greatest(s.last_vacuum, s.last_autovacuum))::float8
           AS vacuum_age_s,
       extract(epoch FROM now() - greatest(s.last_analyze, s.last_autoanalyze))::float8
           AS analyze_age_s,
       coalesce(s.autovacuum_count, 0)::bigint AS autovacuum_count,
       age(c.relfrozenxid)::bigint AS frozen_xid_age,
       coalesce(c.reloptions, '{}')::text[] AS reloptions
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
 WHERE c.relkind IN ('r', 'm', 't')
   AND (coalesce(s.n_dead_tup, 0) > 0
        OR coalesce(s.n_mod_since_analyze, 0) > 0
        OR c.reloptions IS NOT NULL
        OR (c.relpages = 0 AND c.reltuples <= 0
            AND (coalesce(s.n_live_tup, 0) > 0 OR coalesce(s.seq_tup_read, 0) > 0))
        OR c.oid IN (SELECT oid FROM oldest))
   AND (n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        OR c.oid IN (SELECT oid FROM oldest))
   AND n.nspname !~ '^pg_temp_'
