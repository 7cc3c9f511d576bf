-- EXPLAIN's transaction is bounded: a statement or a lock wait longer than the timeout is
-- cancelled (both given in milliseconds, local to the transaction that is rolled back).
SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)
