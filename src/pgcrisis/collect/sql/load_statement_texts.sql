-- The text of the statements a load profile names that the statements probe did not read
-- (another database's, or not among the costliest since the last reset). {pgss} is the
-- schema-qualified view, filled in with psycopg.sql.
SELECT DISTINCT ON (s.queryid) s.queryid, s.query
  FROM {pgss} s
 WHERE s.queryid = ANY(%(queryids)s)
 ORDER BY s.queryid, s.calls DESC
