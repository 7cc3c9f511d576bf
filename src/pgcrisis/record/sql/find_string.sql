-- A string of this recording, by content (the hash finds it, the text confirms it).
SELECT id, used FROM strings WHERE rec = ? AND hash = ? AND text = ?
