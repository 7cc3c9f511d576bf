-- Release one of pgcrisis's advisory locks (class, key).
SELECT pg_advisory_unlock(%s, %s)
