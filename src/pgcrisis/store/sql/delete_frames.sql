DELETE FROM frames WHERE rec = ? AND t IN ({ids})
