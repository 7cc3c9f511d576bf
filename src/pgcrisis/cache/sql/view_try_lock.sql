-- Take the advisory lock of one view's refresh (class, the view's oid) if free: true when
-- taken. pgcrisis.refresh_chain() takes the same lock, so two refreshers never queue.
SELECT pg_try_advisory_lock(%s, %s::oid::int)
