"""Importing this module registers every check (one module per family)."""

from pgcrisis.checks import (  # noqa: F401
    connections,
    contention,
    horizon,
    index_hygiene,
    index_overhead,
    indexes,
    jit,
    jobs,
    load,
    load_results,
    load_writes,
    locks,
    matviews,
    plans,
    sessions,
    statements_top,
    statistics,
    vacuum,
)
