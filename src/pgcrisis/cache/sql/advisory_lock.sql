-- Wait for one of pgcrisis's advisory locks (class, key): the schema's installation.
SELECT pg_advisory_lock(%s, %s)
