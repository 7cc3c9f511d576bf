SELECT thinned_until FROM recordings WHERE id = ?
