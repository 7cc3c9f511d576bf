-- Take one of pgcrisis's advisory locks (class, key) if free: true when taken (the single
-- watch worker of a database).
SELECT pg_try_advisory_lock(%s, %s)
