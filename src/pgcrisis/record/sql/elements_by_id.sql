SELECT id, body FROM elements WHERE rec = ? AND id IN ({ids})
