SELECT t, kind, detail FROM events WHERE rec = ? AND t >= ? AND t <= ? ORDER BY t
