SELECT field, t, value FROM changes WHERE rec = ? AND t >= ? AND t <= ? ORDER BY t
