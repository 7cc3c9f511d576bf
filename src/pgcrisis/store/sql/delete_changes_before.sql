DELETE FROM changes WHERE rec = ? AND field IN ({ids}) AND t < ?
