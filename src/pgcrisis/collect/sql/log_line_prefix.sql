-- The log_line_prefix the watched server writes its stderr log with (to read that log by).
SHOW log_line_prefix
