INSERT INTO content (rec, hash, used, body) VALUES (?, ?, ?, ?) RETURNING id
