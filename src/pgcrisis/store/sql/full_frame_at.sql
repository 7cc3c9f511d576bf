-- The latest frame at or before a moment that read every part.
SELECT t, kind, worst, seen, unavailable, refs FROM frames
 WHERE rec = ? AND t <= ? AND kind = 1 ORDER BY t DESC LIMIT 1
