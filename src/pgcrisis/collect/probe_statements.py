"""pg_stat_statements and index advice (jit-overhead, missing-index). Stub: filled in later."""
