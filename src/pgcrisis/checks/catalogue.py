"""Importing this module registers every check (one module per family)."""

from pgcrisis.checks import (  # noqa: F401
    connections,
    horizon,
    index_hygiene,
    indexes,
    jit,
    jobs,
    load,
    locks,
    matviews,
    plans,
    sessions,
    statements_top,
    statistics,
    vacuum,
)
