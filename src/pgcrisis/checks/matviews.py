"""Checks of the matviews family. Stub: filled in later."""
