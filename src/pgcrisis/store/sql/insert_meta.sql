-- Marks a new store (store/_meta.py: the store's mark, its schema and its encoding).
INSERT INTO meta (key, value) VALUES (?, ?)
