INSERT INTO strings (rec, hash, used, text) VALUES (?, ?, ?, ?) RETURNING id
