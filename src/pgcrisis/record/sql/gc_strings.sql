DELETE FROM strings WHERE rec = ? AND used < ?
