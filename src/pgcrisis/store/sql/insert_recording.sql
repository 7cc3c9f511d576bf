INSERT INTO recordings (name, source, created, thinned_until) VALUES (?, ?, ?, 0)
ON CONFLICT (name) DO NOTHING
