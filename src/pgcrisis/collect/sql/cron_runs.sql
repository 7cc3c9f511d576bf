-- What each pg_cron job's newest runs (the limit parameter) say, in one pass: outcomes, rows reported by
-- the command tags pg_cron stores as return_message ('DELETE 0', 'INSERT 0 5'), the streak of
-- failures since the last success, durations, and the spacing of starts.
-- cron.job_run_details is never purged by pg_cron and has only its runid primary key, so the
-- read is bounded to the newest run records (the scan parameter; an index range on runid).
WITH newest AS (
    SELECT d.jobid, d.runid, d.status, d.return_message, d.start_time, d.end_time,
           row_number() OVER (PARTITION BY d.jobid
                              ORDER BY d.start_time DESC, d.runid DESC) AS age_rank
      FROM cron.job_run_details d
     WHERE d.runid > (SELECT coalesce(max(runid), 0) FROM cron.job_run_details) - %(scan)s
       AND d.start_time IS NOT NULL
       AND d.jobid IS NOT NULL
), recent AS (
    SELECT n.*,
           substring(n.return_message
                     FROM '^(?:DELETE|UPDATE|MERGE|INSERT [0-9]+) ([0-9]+)$')::bigint AS dml_rows,
           n.return_message LIKE 'DELETE %%' AS is_delete,
           lag(n.start_time) OVER w AS prev_start,
           lag(n.end_time) OVER w AS prev_end,
           min(n.age_rank) FILTER (WHERE n.status = 'succeeded')
               OVER (PARTITION BY n.jobid) AS newest_success_rank
      FROM newest n
     WHERE n.age_rank <= %(limit)s
    WINDOW w AS (PARTITION BY n.jobid ORDER BY n.start_time, n.runid)
)
SELECT r.jobid,
       count(*)::int AS runs,
       count(*) FILTER (WHERE r.status = 'succeeded')::int AS succeeded,
       count(*) FILTER (WHERE r.status = 'failed')::int AS failed,
       count(*) FILTER (WHERE r.status IN ('starting', 'running', 'sending', 'connecting'))::int
           AS running,
       count(*) FILTER (WHERE r.status = 'succeeded' AND r.dml_rows = 0)::int AS zero_row_runs,
       (sum(r.dml_rows) FILTER (WHERE r.status = 'succeeded'))::bigint AS rows_affected,
       count(*) FILTER (WHERE r.status = 'succeeded' AND r.is_delete)::int AS delete_runs,
       (sum(r.dml_rows) FILTER (WHERE r.status = 'succeeded' AND r.is_delete))::bigint
           AS deleted_rows,
       count(*) FILTER (WHERE r.status = 'failed'
                          AND r.age_rank < coalesce(r.newest_success_rank, 2147483647))::int
           AS consecutive_failures,
       (array_agg(r.status ORDER BY r.age_rank))[1] AS last_status,
       (array_agg(r.return_message ORDER BY r.age_rank) FILTER (WHERE r.status = 'failed'))[1]
           AS last_error,
       extract(epoch FROM now() - max(r.start_time))::float8 AS last_start_age_s,
       extract(epoch FROM now() - min(r.start_time))::float8 AS first_start_age_s,
       (avg(extract(epoch FROM r.end_time - r.start_time))
            FILTER (WHERE r.status IN ('succeeded', 'failed') AND r.end_time IS NOT NULL))::float8
           AS mean_duration_s,
       (max(extract(epoch FROM r.end_time - r.start_time))
            FILTER (WHERE r.status IN ('succeeded', 'failed') AND r.end_time IS NOT NULL))::float8
           AS max_duration_s,
       (avg(extract(epoch FROM r.start_time - r.prev_start)))::float8 AS mean_interval_s,
       count(*) FILTER (WHERE r.start_time < r.prev_end)::int AS overlaps
  FROM recent r
 GROUP BY r.jobid
