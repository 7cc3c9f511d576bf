-- Whether the central store's schema exists, and its meta table: (schema, meta).
SELECT to_regnamespace(?) IS NOT NULL, to_regclass(?) IS NOT NULL
