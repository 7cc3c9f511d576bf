-- The tables each materialized view reads, directly or through plain views (not through
-- other matviews: a change there reaches this view through the dependency graph). One row
-- per (matview, table) pair; what the watch triggers go on.
WITH RECURSIVE reads (matview, oid) AS (
    SELECT c.oid, c.oid FROM pg_class c WHERE c.relkind = 'm'
    UNION
    SELECT r.matview, d.refobjid
      FROM reads r
      JOIN pg_class cur ON cur.oid = r.oid AND (cur.relkind = 'v' OR cur.oid = r.matview)
      JOIN pg_rewrite w ON w.ev_class = r.oid
      JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
                      AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.oid
)
SELECT quote_ident(mn.nspname) || '.' || quote_ident(m.relname) AS matview,
       quote_ident(tn.nspname) || '.' || quote_ident(t.relname) AS base_table
  FROM reads r
  JOIN pg_class m ON m.oid = r.matview
  JOIN pg_namespace mn ON mn.oid = m.relnamespace
  JOIN pg_class t ON t.oid = r.oid AND t.relkind IN ('r', 'p')
  JOIN pg_namespace tn ON tn.oid = t.relnamespace
 WHERE tn.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcrisis')
 ORDER BY 2, 1
