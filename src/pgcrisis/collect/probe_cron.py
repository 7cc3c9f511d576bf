"""pg_cron jobs and their run history (job-*, refresh-spike checks). Stub: filled in later."""
