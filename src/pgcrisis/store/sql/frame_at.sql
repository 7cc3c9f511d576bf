-- The latest frame at or before a moment.
SELECT t, kind, worst, seen, unavailable, refs FROM frames
 WHERE rec = ? AND t <= ? ORDER BY t DESC LIMIT 1
