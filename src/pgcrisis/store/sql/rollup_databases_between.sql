-- A recording's databases days from a day to another (inclusive), oldest first (obj: rollup_names).
SELECT day, obj, bytes, inserted, updated, deleted
FROM rollup_databases WHERE rec = ? AND day BETWEEN ? AND ? ORDER BY day, obj
