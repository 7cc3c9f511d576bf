-- Every index of a user table, keyed exactly: its columns (attnum, name; 0 and '' for an
-- expression), operator classes, collations, sort options, expressions and predicate; INCLUDE
-- columns after the key columns; the constraint it backs, validity, whether CREATE INDEX is
-- building it right now, size (relpages) and scans. Catalog columns, not pg_get_indexdef (it
-- deparses the whole index on each call: too slow for 10,000 indexes); the full definition
-- only for invalid indexes, whose remedy re-creates them.
SELECT i.indexrelid::bigint AS oid,
       i.indrelid::bigint AS table_oid,
       quote_ident(tn.nspname) || '.' || quote_ident(t.relname) AS table,
       n.nspname::text AS schema,
       ic.relname::text AS relname,
       quote_ident(n.nspname) || '.' || quote_ident(ic.relname) AS name,
       am.amname::text AS method,
       i.indnkeyatts::int AS key_count,
       i.indkey::int2[]::int[] AS attnums,
       ARRAY(SELECT coalesce(a.attname::text, '')
               FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              ORDER BY k.ord) AS columns,
       i.indclass::oid[]::bigint[] AS opclasses,
       i.indcollation::oid[]::bigint[] AS collations,
       i.indoption::int2[]::int[] AS options,
       pg_get_expr(i.indexprs, i.indrelid, true) AS expressions,
       pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       i.indisunique AS unique,
       i.indisprimary AS primary,
       con.conname::text AS constraint,
       i.indisvalid AS valid,
       i.indisready AS ready,
       (NOT i.indisvalid
        AND i.indrelid IN (SELECT p.relid FROM pg_stat_progress_create_index p)) AS being_built,
       greatest(ic.relpages, 0)::bigint AS relpages,
       coalesce(s.idx_scan, 0)::bigint AS idx_scan,
       CASE WHEN NOT i.indisvalid THEN pg_get_indexdef(i.indexrelid) END AS definition
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = ic.relnamespace
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace tn ON tn.oid = t.relnamespace
  JOIN pg_am am ON am.oid = ic.relam
  LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')
  LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = i.indexrelid
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp_)'
