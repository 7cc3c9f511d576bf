-- Whether a recording's writer holds its advisory lock (pg_lock_recording.sql: LOCK_CLASS,
-- the recording's id) now: a recorder writes it.
SELECT EXISTS (SELECT 1 FROM pg_locks
                WHERE locktype = 'advisory' AND classid::bigint = ? AND objid::bigint = ?
                  AND objsubid = 2 AND granted)
