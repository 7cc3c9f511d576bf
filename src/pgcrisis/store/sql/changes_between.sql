-- The changes of these fields from a moment on (inclusive) up to another, oldest first.
SELECT field, t, value FROM changes
 WHERE rec = ? AND field IN ({ids}) AND t >= ? AND t <= ? ORDER BY t
