UPDATE recordings SET source = ? WHERE id = ?
