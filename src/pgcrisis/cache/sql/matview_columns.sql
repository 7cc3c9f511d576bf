-- Each materialized view's comment (where a row key may be declared) and its columns in
-- order, with whether a unique btree index can cover the column's type.
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS view,
       coalesce(obj_description(c.oid, 'pg_class'), '') AS comment,
       array_agg(a.attname::text ORDER BY a.attnum) AS columns,
       array_agg(EXISTS (SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
                          WHERE am.amname = 'btree' AND oc.opcdefault
                            AND oc.opcintype IN (a.atttypid, 'anyenum'::regtype,
                                                 'anyarray'::regtype))
                 ORDER BY a.attnum) AS indexable
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind = 'm'
 GROUP BY 1, 2
