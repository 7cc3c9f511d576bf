DELETE FROM frames WHERE rec = ? AND t < ?
