-- A field value of this recording, by content and layout.
SELECT id, used, body FROM field_values WHERE rec = ? AND hash = ? AND layout = ?
