INSERT INTO log_slow (rec, t, gkey, statement, queryid, tag, application, role_name, db_name,
                      n, total_ms, max_ms, histogram, plan)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (rec, t, gkey) DO UPDATE SET n = excluded.n, total_ms = excluded.total_ms,
    max_ms = excluded.max_ms, histogram = excluded.histogram, plan = excluded.plan
