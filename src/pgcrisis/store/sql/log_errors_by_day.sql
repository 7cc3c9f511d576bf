-- The errors the log counted, per day (days since the epoch) of one recording.
SELECT t / 86400000000, sum(n) FROM log_errors WHERE rec = ? GROUP BY t / 86400000000
