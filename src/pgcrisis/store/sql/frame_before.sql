-- The last frame before a moment (replay steps back).
SELECT t FROM frames WHERE rec = ? AND t < ? ORDER BY t DESC LIMIT 1
