-- Every pg_cron job this role may see (cron.job's row security shows a non-superuser only
-- its own jobs).
SELECT j.jobid,
       j.jobname::text AS jobname,
       j.schedule,
       j.command,
       j.database,
       j.username,
       j.active
  FROM cron.job j
 ORDER BY j.jobid
