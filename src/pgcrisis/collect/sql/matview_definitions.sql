-- Each matview's defining query, to infer its row key (GROUP BY / DISTINCT columns).
-- pg_get_viewdef takes ACCESS SHARE locks on what the view reads, so it is not called for
-- views that read a relation someone holds or awaits an ACCESS EXCLUSIVE lock on (the
-- skip parameter: names from the locks part).
SELECT c.oid::bigint AS oid,
       CASE WHEN NOT EXISTS (
                SELECT 1
                  FROM pg_rewrite w
                  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
                                  AND d.refclassid = 'pg_class'::regclass
                 WHERE w.ev_class = c.oid
                   AND d.refobjid IN (SELECT to_regclass(s) FROM unnest(%(skip)s::text[]) s))
            THEN pg_get_viewdef(c.oid)
       END AS definition
  FROM pg_class c
 WHERE c.relkind = 'm'
