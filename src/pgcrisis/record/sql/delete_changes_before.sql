DELETE FROM changes WHERE rec = ? AND t < ?
