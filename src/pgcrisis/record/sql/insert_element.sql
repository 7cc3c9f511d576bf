INSERT INTO elements (rec, hash, used, body) VALUES (?, ?, ?, ?) RETURNING id
