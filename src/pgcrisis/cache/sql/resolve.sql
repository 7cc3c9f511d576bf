-- Resolve relation names as given (schema-qualified or by this session's search_path) to
-- their quote_ident form and kind. to_regclass takes no lock and returns NULL for unknown
-- names; the names come in as typed by the user.
SELECT w.lookup,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
       c.relkind::text AS relkind
  FROM unnest(%(names)s::text[]) AS w(lookup)
  JOIN pg_class c ON c.oid = to_regclass(w.lookup)
  JOIN pg_namespace n ON n.oid = c.relnamespace
