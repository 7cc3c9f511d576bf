-- Every foreign key of the database: referencing columns and referenced table, in key order.
SELECT con.oid::bigint AS oid,
       con.conname::text AS name,
       con.conrelid::bigint AS table_oid,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS table,
       ARRAY(SELECT a.attname::text
               FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
              ORDER BY k.ord) AS columns,
       con.confrelid::bigint AS referenced_oid,
       quote_ident(rn.nspname) || '.' || quote_ident(rc.relname) AS referenced_table,
       ARRAY(SELECT a.attname::text
               FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
              ORDER BY k.ord) AS referenced_columns
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class rc ON rc.oid = con.confrelid
  JOIN pg_namespace rn ON rn.oid = rc.relnamespace
 WHERE con.contype = 'f'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
