"""Checks: pure functions of a snapshot (no I/O), each yielding findings.

They run the same on a live server, a recorded snapshot or a test fixture. Each module
registers its checks with :func:`pgcrisis.checks.registry.check`.
"""
