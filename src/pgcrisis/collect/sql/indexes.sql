-- Every index of a user table with its key columns in order (NULL for an expression; INCLUDE
-- columns left out), validity, and whether it is partial: enough to tell whether a lookup or
-- a foreign key check can use it.
SELECT i.indexrelid::bigint AS oid,
       i.indrelid::bigint AS table_oid,
       n.nspname::text AS schema,
       ic.relname::text AS relname,
       quote_ident(n.nspname) || '.' || quote_ident(ic.relname) AS name,
       am.amname::text AS method,
       ARRAY(SELECT a.attname::text
               FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE k.ord <= i.indnkeyatts
              ORDER BY k.ord) AS columns,
       i.indisvalid AS valid,
       i.indisunique AS unique,
       i.indisprimary AS primary,
       i.indpred IS NOT NULL AS partial,
       greatest(ic.relpages, 0)::bigint AS relpages,
       coalesce(s.idx_scan, 0)::bigint AS idx_scan
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = ic.relnamespace
  JOIN pg_am am ON am.oid = ic.relam
  LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = i.indexrelid
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp_)'
