"""Tables, indexes and foreign keys (missing-index, fk-missing-index): three catalog queries.

Sizes come from ``relpages``/``reltuples`` and counters from ``pg_stat_all_tables``; nothing
here opens a user table, so a table locked by DDL does not hold the probe up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pgcrisis.collect.probe import ProbeContext, probe
from pgcrisis.model.parts import RELATIONS
from pgcrisis.model.relations import ForeignKey, Index, Relations, Table


@probe(RELATIONS)
def relations(ctx: ProbeContext) -> Mapping[str, Any]:
    """Every user table, index and foreign key of the current database."""
    tables = tuple(ctx.rows("relations", Table))
    indexes = tuple(
        Index(**{**row, "columns": tuple(row["columns"])}) for row in ctx.dicts("indexes")
    )
    foreign_keys = tuple(
        ForeignKey(**{**row, "columns": tuple(row["columns"]),
                      "referenced_columns": tuple(row["referenced_columns"])})
        for row in ctx.dicts("foreign_keys")
    )
    return {"relations": Relations(tables, indexes, foreign_keys)}
