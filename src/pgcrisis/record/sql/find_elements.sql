-- Element rows of this recording whose hash is among these (bodies confirm a match).
SELECT id, used, hash, body FROM elements WHERE rec = ? AND hash IN ({ids})
