-- A recording's tables days from a day to another (inclusive), oldest first (obj: rollup_names).
SELECT day, obj, bytes, inserted, updated, deleted
FROM rollup_tables WHERE rec = ? AND day BETWEEN ? AND ? ORDER BY day, obj
