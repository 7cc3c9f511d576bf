UPDATE recordings SET thinned_until = ? WHERE id = ?
