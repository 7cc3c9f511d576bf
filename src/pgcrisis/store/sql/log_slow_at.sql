-- What a minute's group holds already (the writer adds to it).
SELECT n, total_ms, max_ms, histogram, plan FROM log_slow WHERE rec = ? AND t = ? AND gkey = ?
