SELECT t, kind, worst, seen, unavailable, refs FROM frames
 WHERE rec = ? AND t >= ? ORDER BY t LIMIT 1
