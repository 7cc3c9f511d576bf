"""Checks of the indexes family. Stub: filled in later."""
