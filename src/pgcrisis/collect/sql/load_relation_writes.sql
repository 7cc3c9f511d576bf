-- Rows inserted, updated (HOT among them: no index touched) and deleted per table of the
-- current database: only tables that have written at least %(min_rows)s rows since the
-- statistics' reset (with 10,000 tables, pg_stat_user_tables twice a window would cost more
-- than the window). Read at both ends of triage's load window (and at a recorder's full
-- samples) and differenced; a table below the line at the start is counted from the line (a
-- lower bound of its writes). index-overhead reads them: a table written heavily while it
-- carries indexes nothing reads.
WITH written AS MATERIALIZED (
    SELECT c.oid, c.relname, c.relnamespace,
           pg_stat_get_tuples_inserted(c.oid) AS n_tup_ins,
           pg_stat_get_tuples_updated(c.oid) AS n_tup_upd,
           pg_stat_get_tuples_hot_updated(c.oid) AS n_tup_hot_upd,
           pg_stat_get_tuples_deleted(c.oid) AS n_tup_del
      FROM pg_class c
     WHERE c.relkind IN ('r', 'm')
       AND c.relnamespace <> 'pg_toast'::regnamespace
       AND pg_stat_get_tuples_inserted(c.oid) + pg_stat_get_tuples_updated(c.oid)
           + pg_stat_get_tuples_deleted(c.oid) >= %(min_rows)s
)
SELECT w.oid::bigint AS relid,
       quote_ident(n.nspname) || '.' || quote_ident(w.relname) AS name,
       w.n_tup_ins::bigint AS n_tup_ins,
       w.n_tup_upd::bigint AS n_tup_upd,
       w.n_tup_hot_upd::bigint AS n_tup_hot_upd,
       w.n_tup_del::bigint AS n_tup_del
  FROM written w
  JOIN pg_namespace n ON n.oid = w.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
