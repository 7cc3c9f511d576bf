-- Register a field name (ids are small and dense: a frame's seen mask has bit 1 << id).
INSERT INTO fields (id, name)
SELECT next.id, ? FROM (SELECT coalesce(max(id), 0) + 1 AS id FROM fields) AS next
 WHERE NOT EXISTS (SELECT 1 FROM fields WHERE name = ?)
