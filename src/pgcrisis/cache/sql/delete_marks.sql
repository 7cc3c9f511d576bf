-- Every mark of the given views (views that were dropped).
DELETE FROM pgcrisis.dirty WHERE view = ANY(%s)
