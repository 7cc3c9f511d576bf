-- The latest frame at or before a moment that read a field (bit of the field's id).
SELECT t, kind, worst, seen, unavailable, refs FROM frames
 WHERE rec = ? AND t <= ? AND (seen & CAST(? AS BIGINT)) <> 0 ORDER BY t DESC LIMIT 1
