-- Blocks of each table of the current database read from outside shared buffers and found in
-- them (heap, indexes, TOAST and its index), only those ever read: read at both ends of
-- triage's load window (and at a recorder's full samples) and differenced.
SELECT s.relid::bigint AS relid,
       quote_ident(s.schemaname) || '.' || quote_ident(s.relname) AS name,
       coalesce(s.heap_blks_read, 0)::bigint AS heap_blks_read,
       coalesce(s.heap_blks_hit, 0)::bigint AS heap_blks_hit,
       coalesce(s.idx_blks_read, 0)::bigint AS idx_blks_read,
       coalesce(s.idx_blks_hit, 0)::bigint AS idx_blks_hit,
       (coalesce(s.toast_blks_read, 0) + coalesce(s.tidx_blks_read, 0))::bigint AS toast_blks_read,
       (coalesce(s.toast_blks_hit, 0) + coalesce(s.tidx_blks_hit, 0))::bigint AS toast_blks_hit
  FROM pg_statio_user_tables s
 WHERE coalesce(s.heap_blks_read, 0) + coalesce(s.idx_blks_read, 0)
       + coalesce(s.toast_blks_read, 0) + coalesce(s.tidx_blks_read, 0) > 0
