"""Checks of the jit family. Stub: filled in later."""
