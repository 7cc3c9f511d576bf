-- (a store of schema 2 to 4: no role nor database)
SELECT t, severity, sqlstate, statement, queryid, application, tag, n, sample
FROM log_errors WHERE rec = ? AND t BETWEEN ? AND ? ORDER BY t
