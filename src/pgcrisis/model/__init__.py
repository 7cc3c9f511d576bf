"""Typed, frozen data that crosses module borders: snapshots (what probes saw) and findings.

Nothing here talks to a database or formats text; probes fill these, checks read them,
renderers print them.
"""
