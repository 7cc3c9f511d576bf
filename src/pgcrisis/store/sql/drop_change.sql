DELETE FROM changes WHERE rec = ? AND field = ? AND t = ?
