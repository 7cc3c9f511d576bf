SELECT min(t), max(t) FROM frames WHERE rec = ?
