"""Session checks: idle-in-transaction, long-running-query."""
