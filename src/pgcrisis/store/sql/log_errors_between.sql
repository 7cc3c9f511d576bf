SELECT t, severity, sqlstate, statement, queryid, application, tag, n, sample, role_name,
       db_name
FROM log_errors WHERE rec = ? AND t BETWEEN ? AND ? ORDER BY t
