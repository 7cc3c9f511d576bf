-- Until the transaction ends: the store's schema and catalog rows to this writer alone
-- (the key's first half is store/_postgres.py's LOCK_CLASS, its second 0).
SELECT pg_advisory_xact_lock(?, 0)
