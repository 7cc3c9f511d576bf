-- Every materialized view with what REFRESH ... CONCURRENTLY needs (populated, and a unique,
-- valid index on plain columns with no WHERE clause), its size from relpages, how often it is
-- read (pg_stat_all_tables' counters, computed for these views only), and the columns whose
-- sampled values were all distinct and never null (key candidates).
SELECT c.oid::bigint AS oid,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
       c.relname::text AS relname,
       n.nspname::text AS schema,
       c.relispopulated AS populated,
       k.has_key_index,
       k.has_key_index AND c.relispopulated AS concurrent_ready,
       k.unique_indexes,
       c.relpages::bigint AS relpages,
       greatest(c.reltuples, 0)::float8 AS reltuples,
       (pg_stat_get_numscans(c.oid) + k.index_scans)::bigint AS reads,
       coalesce((SELECT array_agg(st.attname::text ORDER BY a.attnum)
                   FROM pg_stats st
                   JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = st.attname
                  WHERE st.schemaname = n.nspname AND st.tablename = c.relname
                    AND st.n_distinct = -1 AND st.null_frac = 0), '{}') AS distinct_columns
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL (
       SELECT coalesce(bool_or(i.indisunique AND i.indisvalid AND i.indpred IS NULL
                               AND i.indexprs IS NULL), false) AS has_key_index,
              count(*) FILTER (WHERE i.indisunique)::int AS unique_indexes,
              coalesce(sum(pg_stat_get_numscans(i.indexrelid)), 0) AS index_scans
         FROM pg_index i
        WHERE i.indrelid = c.oid) k
 WHERE c.relkind = 'm'
 ORDER BY 2
