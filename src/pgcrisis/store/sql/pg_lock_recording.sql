-- A recording to this writer alone while its connection lives (LOCK_CLASS, the recording's
-- id); false when another recorder holds it.
SELECT pg_try_advisory_lock(?, ?)
