-- Frames from a moment on (inclusive) up to another, oldest first, a page at a time.
SELECT t, kind, worst, seen, unavailable, refs FROM frames
 WHERE rec = ? AND t >= ? AND t <= ? ORDER BY t LIMIT ?
