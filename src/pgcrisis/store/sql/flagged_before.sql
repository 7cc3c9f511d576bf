-- The last frame before a moment in which a warning or critical finding held.
SELECT t FROM frames WHERE rec = ? AND t < ? AND worst IS NOT NULL ORDER BY t DESC LIMIT 1
