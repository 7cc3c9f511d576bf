-- Which of these sessions still exist (a terminated backend takes a moment to go).
SELECT pid FROM pg_stat_activity WHERE pid = ANY(%(pids)s)
