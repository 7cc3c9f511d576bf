-- Which views and materialized views read which, from their rewrite rules' dependencies,
-- limited to the trees matviews are part of (walking up and down through plain views):
-- enough to follow "matview -> plain view -> matview" chains. One row per pair.
WITH RECURSIVE edge AS (
    SELECT DISTINCT w.ev_class AS view, d.refobjid AS reads
      FROM pg_rewrite w
      JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
                      AND d.refclassid = 'pg_class'::regclass
      JOIN pg_class v ON v.oid = w.ev_class AND v.relkind IN ('v', 'm')
      JOIN pg_class r ON r.oid = d.refobjid AND r.relkind IN ('v', 'm')
     WHERE d.refobjid <> w.ev_class
), reach (oid) AS (
    SELECT c.oid FROM pg_class c WHERE c.relkind = 'm'
    UNION
    SELECT CASE WHEN e.reads = r.oid THEN e.view ELSE e.reads END
      FROM edge e
      JOIN reach r ON e.reads = r.oid OR e.view = r.oid
)
SELECT quote_ident(vn.nspname) || '.' || quote_ident(v.relname) AS view,
       v.relkind::text AS view_kind,
       quote_ident(rn.nspname) || '.' || quote_ident(r.relname) AS reads,
       r.relkind::text AS reads_kind
  FROM edge e
  JOIN pg_class v ON v.oid = e.view
  JOIN pg_namespace vn ON vn.oid = v.relnamespace
  JOIN pg_class r ON r.oid = e.reads
  JOIN pg_namespace rn ON rn.oid = r.relnamespace
 WHERE e.view IN (SELECT oid FROM reach)
 ORDER BY 1, 3
