DELETE FROM log_errors WHERE rec = ? AND t < ?
