-- A recording's sequences days from a day to another (inclusive), oldest first.
SELECT day, obj, last_value, max_value
FROM rollup_sequences WHERE rec = ? AND day BETWEEN ? AND ? ORDER BY day, obj
