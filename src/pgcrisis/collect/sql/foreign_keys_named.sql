-- Foreign keys named by EXPLAIN's trigger lines: the referencing table and columns (in
-- key order), the referenced table, and whether an index on the referencing table starts
-- with exactly those columns (what each cascade or NO ACTION check searches by).
SELECT c.conname AS name,
       quote_ident(rn.nspname) || '.' || quote_ident(r.relname) AS referencing,
       array_agg(a.attname::text ORDER BY k.n) AS columns,
       quote_ident(fn.nspname) || '.' || quote_ident(f.relname) AS referenced,
       EXISTS (
           SELECT 1
             FROM pg_index i
            WHERE i.indrelid = c.conrelid
              AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)]
                  @> c.conkey
              AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)]
                  <@ c.conkey
       ) AS indexed
  FROM pg_constraint c
  JOIN pg_class r ON r.oid = c.conrelid
  JOIN pg_namespace rn ON rn.oid = r.relnamespace
  JOIN pg_class f ON f.oid = c.confrelid
  JOIN pg_namespace fn ON fn.oid = f.relnamespace
 CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
 WHERE c.contype = 'f'
   AND c.conname = ANY(%(names)s)
 GROUP BY c.oid, c.conname, rn.nspname, r.relname, fn.nspname, f.relname, c.conrelid, c.conkey
