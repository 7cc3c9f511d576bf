-- Every table carrying the watch trigger (named by the parameter), with the views its
-- trigger marks (its arguments, sorted).
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       (SELECT array_agg(a ORDER BY a)
          FROM unnest(string_to_array(encode(t.tgargs, 'escape'), '\000')) a
         WHERE a <> '')
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE t.tgname = %s
