SELECT t, statement, queryid, tag, application, role_name, db_name, n, total_ms, max_ms,
       histogram, plan
FROM log_slow WHERE rec = ? AND t BETWEEN ? AND ? ORDER BY t
