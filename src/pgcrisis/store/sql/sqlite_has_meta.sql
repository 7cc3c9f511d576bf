-- Whether the SQLite file has a store's tables yet (one of them: meta).
SELECT count(*) FROM sqlite_master WHERE name = 'meta'
