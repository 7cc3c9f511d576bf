"""Materialized views and their dependencies (matview-* checks). Stub: filled in later."""
