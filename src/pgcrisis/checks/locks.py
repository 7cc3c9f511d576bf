"""Lock checks: blocking-lock, lock-hoarder."""
