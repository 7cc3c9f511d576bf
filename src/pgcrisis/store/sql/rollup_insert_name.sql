INSERT INTO rollup_names (rec, id, db, name) VALUES (?, ?, ?, ?)
