-- A setting for this EXPLAIN only (local to its transaction, which is rolled back).
SELECT set_config(%s, %s, true)
