-- The store's tables brought to a newer version.
UPDATE meta SET value = ? WHERE key = 'schema'
