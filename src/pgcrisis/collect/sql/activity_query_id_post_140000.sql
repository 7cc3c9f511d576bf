-- A session's queryid (set while compute_query_id is on, as pg_stat_statements turns it).
a.query_id
