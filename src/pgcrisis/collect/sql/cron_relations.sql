-- The relations pg_cron job commands name (refreshed matviews, DELETE targets), resolved with
-- this session's search_path, with the table counters job-backlog reads (pg_stat_all_tables'
-- functions, for these relations only). to_regclass takes no lock; the names come quoted.
SELECT w.lookup,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
       c.relkind::text AS relkind,
       c.relpages::bigint AS relpages,
       pg_stat_get_live_tuples(c.oid) AS n_live_tup,
       pg_stat_get_dead_tuples(c.oid) AS n_dead_tup,
       pg_stat_get_tuples_inserted(c.oid) AS n_tup_ins,
       pg_stat_get_tuples_deleted(c.oid) AS n_tup_del,
       pg_stat_get_numscans(c.oid) AS seq_scan,
       pg_stat_get_tuples_returned(c.oid) AS seq_tup_read
  FROM unnest(%(names)s::text[]) AS w(lookup)
  JOIN pg_class c ON c.oid = to_regclass(w.lookup)
  JOIN pg_namespace n ON n.oid = c.relnamespace
