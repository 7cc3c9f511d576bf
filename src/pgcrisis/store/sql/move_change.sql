UPDATE changes SET t = ? WHERE rec = ? AND field = ? AND t = ?
