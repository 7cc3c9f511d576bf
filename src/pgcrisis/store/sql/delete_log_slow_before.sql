DELETE FROM log_slow WHERE rec = ? AND t < ?
