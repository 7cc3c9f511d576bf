-- Sequences with how far they got, and the narrowest integer column each feeds (an integer
-- column fed by a bigint sequence runs out at the column's limit), found through OWNED BY or
-- identity, or through a column default that calls it. Set-based: one pass over pg_depend.
-- last_value is NULL for a sequence never called or one this role may not read.
WITH feeds AS (
    SELECT d.objid AS seq, a.attrelid, a.attname, a.atttypid
      FROM pg_depend d
      JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
       AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
    UNION ALL
    SELECT d.refobjid, a.attrelid, a.attname, a.atttypid
      FROM pg_depend d
      JOIN pg_attrdef ad ON ad.oid = d.objid
      JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
     WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
), narrowest AS (
    SELECT DISTINCT ON (f.seq) f.seq,
           quote_ident(tn.nspname) || '.' || quote_ident(t.relname) || '.'
               || quote_ident(f.attname) AS name,
           format_type(f.atttypid, NULL) AS type
      FROM feeds f
      JOIN pg_class t ON t.oid = f.attrelid
      JOIN pg_namespace tn ON tn.oid = t.relnamespace
     ORDER BY f.seq, CASE f.atttypid WHEN 'int2'::regtype THEN 0 WHEN 'int4'::regtype THEN 1
                     ELSE 2 END
)
SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename) AS name,
       format_type(s.data_type, NULL) AS data_type,
       s.last_value::numeric::text AS last_value,
       s.min_value::numeric::text AS min_value,
       s.max_value::numeric::text AS max_value,
       s.increment_by::bigint AS increment,
       s.cycle,
       nw.name AS column,
       nw.type AS column_type
  FROM pg_sequences s
  JOIN pg_namespace n ON n.nspname = s.schemaname
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.sequencename
  LEFT JOIN narrowest nw ON nw.seq = c.oid
 WHERE s.schemaname NOT IN ('pg_catalog', 'information_schema')
