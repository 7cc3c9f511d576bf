"""Tables, indexes and foreign keys (missing-index, fk-missing-index). Stub: filled in later."""
