-- How long the transaction's DDL waits for a lock before giving up until later.
SELECT set_config('lock_timeout', ?, true)
