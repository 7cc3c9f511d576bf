-- Run durations of the given pg_cron jobs (the ones refreshing exactly one matview): median
-- and 95th percentile of their newest finished successful runs.
SELECT jobid::bigint AS jobid,
       count(*)::int AS runs,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY secs)::float8 AS p50_s,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY secs)::float8 AS p95_s
  FROM (SELECT d.jobid, extract(epoch FROM d.end_time - d.start_time) AS secs,
               row_number() OVER (PARTITION BY d.jobid ORDER BY d.runid DESC) AS newest
          FROM cron.job_run_details d
         WHERE d.jobid = ANY(%(jobids)s::bigint[]) AND d.status = 'succeeded'
           AND d.end_time IS NOT NULL) r
 WHERE newest <= 50
 GROUP BY jobid
