-- The first frame after a moment in which a warning or critical finding held.
SELECT t FROM frames WHERE rec = ? AND t > ? AND worst IS NOT NULL ORDER BY t LIMIT 1
