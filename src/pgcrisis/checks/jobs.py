"""Checks of the jobs family. Stub: filled in later."""
