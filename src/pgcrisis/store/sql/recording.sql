SELECT id, thinned_until FROM recordings WHERE name = ?
