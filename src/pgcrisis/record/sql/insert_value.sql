INSERT INTO field_values (rec, hash, layout, used, body) VALUES (?, ?, ?, ?, ?) RETURNING id
