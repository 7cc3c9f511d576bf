-- An EXPLAIN counts as a (0 ms) nested call of the statement it plans, and as a utility
-- statement of its own: a superuser's batch keeps pg_stat_statements clean of both (local
-- to the batch's transaction).
SET LOCAL pg_stat_statements.track = top;
SET LOCAL pg_stat_statements.track_utility = off
