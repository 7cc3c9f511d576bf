SELECT id, name FROM fields
