-- Bytes on disk of every partition of one recording (tables, indexes, TOAST).
SELECT coalesce(sum(pg_total_relation_size(p.relid)), 0)::bigint
  FROM unnest(?::text[]) AS r(name),
       pg_partition_tree(to_regclass(r.name)) AS p
 WHERE p.isleaf
