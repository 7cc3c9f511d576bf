-- The last frames of a recording, newest first: their server time and the recorder's clock
-- beside it (t + local_offset), to tell whether they still come.
SELECT t, local_offset FROM frames WHERE rec = ? ORDER BY t DESC LIMIT ?
