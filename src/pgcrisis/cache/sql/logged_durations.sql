-- Refresh durations pgcrisis recorded itself (pgcrisis.refresh_log): median and 95th
-- percentile of each view's newest successful refreshes.
SELECT view,
       count(*)::int AS runs,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_s)::float8 AS p50_s,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_s)::float8 AS p95_s
  FROM (SELECT view, duration_s,
               row_number() OVER (PARTITION BY view ORDER BY id DESC) AS newest
          FROM pgcrisis.refresh_log
         WHERE status = 'refreshed') l
 WHERE newest <= 50
 GROUP BY view
