-- The session's statement_timeout lowered to {timeout} milliseconds for one plan's batch
-- (local to its transaction; never raised: least() of the setting, 0 meaning none, and it).
SELECT set_config('statement_timeout', least(nullif(setting::bigint, 0), {timeout})::text, true)
  FROM pg_settings
 WHERE name = 'statement_timeout'
