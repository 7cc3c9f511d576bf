-- Errors the log counted on a day, added to the day's row (made if the day has none yet).
INSERT INTO rollup_server (rec, day, samples, seconds, connections, active, seized_minutes,
                           errors)
VALUES (?, ?, 0, 0, '{}', '{}', 0, ?)
ON CONFLICT (rec, day) DO UPDATE SET errors = coalesce(rollup_server.errors, 0) + excluded.errors
