-- Prepared transactions hold locks with no session behind them (pid 0 in pg_blocking_pids).
SELECT gid,
       owner::text AS owner,
       database::text AS database,
       extract(epoch FROM now() - prepared)::float8 AS age_s,
       transaction::text::bigint AS transaction
  FROM pg_prepared_xacts
