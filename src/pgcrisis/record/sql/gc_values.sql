DELETE FROM field_values WHERE rec = ? AND used < ?
