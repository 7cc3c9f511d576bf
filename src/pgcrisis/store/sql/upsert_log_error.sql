INSERT INTO log_errors (rec, t, gkey, severity, sqlstate, statement, queryid, application, tag,
                        n, sample, role_name, db_name)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (rec, t, gkey) DO UPDATE SET n = log_errors.n + excluded.n, sample = excluded.sample
