-- Content of this recording whose hash is among these (the bodies confirm a match).
SELECT id, used, hash, body FROM content WHERE rec = ? AND hash IN ({ids})
