-- The first frame after a moment (replay steps forward).
SELECT t FROM frames WHERE rec = ? AND t > ? ORDER BY t LIMIT 1
