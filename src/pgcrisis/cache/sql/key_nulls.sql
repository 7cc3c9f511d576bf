-- For each materialized view's usable unique index (valid, no WHERE, no expressions), its
-- columns and the largest share of NULLs pg_stats sampled in them: rows with a NULL key
-- never match on a concurrent refresh, so they are deleted and re-inserted every time.
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS view,
       array_agg(a.attname::text ORDER BY k.ord) AS key_columns,
       coalesce(max(st.null_frac), 0)::float8 AS null_frac
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid AND c.relkind = 'm'
  JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
  LEFT JOIN pg_stats st ON st.schemaname = n.nspname AND st.tablename = c.relname
                       AND st.attname = a.attname
 WHERE i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
 GROUP BY 1, i.indexrelid
