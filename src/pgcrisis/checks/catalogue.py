"""Importing this module registers every check (one module per family)."""

from pgcrisis.checks import (  # noqa: F401
    indexes,
    jit,
    jobs,
    locks,
    matviews,
    sessions,
)
