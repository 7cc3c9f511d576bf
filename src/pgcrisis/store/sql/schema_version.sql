-- The version of the store's tables.
SELECT value FROM meta WHERE key = 'schema'
