DELETE FROM elements WHERE rec = ? AND used < ?
