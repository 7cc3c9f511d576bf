DELETE FROM series WHERE rec = ? AND t < ?
