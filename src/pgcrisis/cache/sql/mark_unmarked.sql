-- Mark dirty each of the given views that has no mark yet (the dependents of a wave).
INSERT INTO pgcrisis.dirty (view)
SELECT v FROM unnest(%s::text[]) v
 WHERE NOT EXISTS (SELECT 1 FROM pgcrisis.dirty d WHERE d.view = v)
