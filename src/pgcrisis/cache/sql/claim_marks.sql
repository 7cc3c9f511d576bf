-- Claim the given views' committed marks for a wave (wave, views, wave).
UPDATE pgcrisis.dirty SET wave = %s
 WHERE view = ANY(%s) AND wave IS DISTINCT FROM %s
