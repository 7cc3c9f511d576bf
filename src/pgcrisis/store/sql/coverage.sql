-- The first and last frame's times (two index lookups, whatever the recording's length).
SELECT (SELECT t FROM frames WHERE rec = ? ORDER BY t LIMIT 1),
       (SELECT t FROM frames WHERE rec = ? ORDER BY t DESC LIMIT 1)
