INSERT INTO events (rec, t, kind, detail) VALUES (?, ?, ?, ?)
