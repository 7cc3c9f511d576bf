SELECT id, layout, body FROM field_values WHERE rec = ? AND id IN ({ids})
