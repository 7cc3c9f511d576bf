INSERT INTO changes (rec, field, t, value) VALUES (?, ?, ?, ?)
