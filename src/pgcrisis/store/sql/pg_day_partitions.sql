-- The partitions of one recording's table (named <table>_r<rec>_<yyyymmdd>).
SELECT c.relname
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = to_regclass(?)
