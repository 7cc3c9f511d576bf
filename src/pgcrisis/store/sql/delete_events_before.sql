DELETE FROM events WHERE rec = ? AND t < ?
