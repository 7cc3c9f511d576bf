SELECT id, text FROM strings WHERE rec = ? AND id IN ({ids})
