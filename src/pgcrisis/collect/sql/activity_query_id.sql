-- A session's queryid: pg_stat_activity shows none before PostgreSQL 14.
NULL::bigint
