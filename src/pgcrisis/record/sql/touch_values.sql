UPDATE field_values SET used = ? WHERE rec = ? AND id IN ({ids}) AND used < ?
