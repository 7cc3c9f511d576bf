-- Blocks read from outside shared buffers and found in them, per table and index of the
-- current database (an index named by its table): only relations that have read at least
-- %(min_blocks)s blocks since the statistics' reset (with 10,000 tables, every one's counters
-- twice a window would cost more than the window). Read at both ends of triage's load window
-- (and at a recorder's full samples) and differenced; a relation below the line at the start
-- is counted from the line (a lower bound of its reads). TOAST is left out.
WITH hot AS MATERIALIZED (
    SELECT c.oid, c.relkind,
           pg_stat_get_blocks_fetched(c.oid) - pg_stat_get_blocks_hit(c.oid) AS blks_read,
           pg_stat_get_blocks_hit(c.oid) AS blks_hit
      FROM pg_class c
     WHERE c.relkind IN ('r', 'm', 'i')
       AND c.relnamespace <> 'pg_toast'::regnamespace
       AND pg_stat_get_blocks_fetched(c.oid) - pg_stat_get_blocks_hit(c.oid) >= %(min_blocks)s
)
SELECT h.oid::bigint AS relid,
       quote_ident(n.nspname) || '.' || quote_ident(t.relname) AS name,
       h.relkind = 'i' AS is_index,
       h.blks_read::bigint AS blks_read,
       h.blks_hit::bigint AS blks_hit
  FROM hot h
  LEFT JOIN pg_index i ON i.indexrelid = h.oid
  JOIN pg_class t ON t.oid = coalesce(i.indrelid, h.oid)
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
