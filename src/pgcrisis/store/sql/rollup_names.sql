-- The names of a recording's databases, tables and sequences, by id.
SELECT id, db, name FROM rollup_names WHERE rec = ?
