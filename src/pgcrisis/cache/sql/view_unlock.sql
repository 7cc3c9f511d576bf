-- Release the advisory lock of one view's refresh (class, the view's oid).
SELECT pg_advisory_unlock(%s, %s::oid::int)
