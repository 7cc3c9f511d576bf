-- Column names of the given tables (the tables statements filter on), to tell which table an
-- unqualified column of a join belongs to.
SELECT a.attrelid::bigint AS table_oid,
       array_agg(a.attname::text ORDER BY a.attnum) AS columns
  FROM pg_attribute a
 WHERE a.attrelid = ANY(%(oids)s::oid[])
   AND a.attnum > 0
   AND NOT a.attisdropped
 GROUP BY a.attrelid
