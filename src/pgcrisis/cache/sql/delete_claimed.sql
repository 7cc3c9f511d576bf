-- A view's marks claimed by a wave, once its refresh committed (view, wave).
DELETE FROM pgcrisis.dirty WHERE view = %s AND wave = %s
