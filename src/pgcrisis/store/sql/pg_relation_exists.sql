-- Whether a table (a recording's partition) exists, by its qualified name.
SELECT to_regclass(?) IS NOT NULL
