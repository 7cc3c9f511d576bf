"""What makes materialized views concurrent-ready: the unique index on a view's likely row
key (the statement ``cache prepare`` builds), a first plain refresh of an unpopulated one."""

from __future__ import annotations

from collections.abc import Sequence

from pgcrisis.actions import Action, CreateIndex, RefreshMatview
from pgcrisis.cache.keys import key_index
from pgcrisis.model.matviews import Matview


def key_index_action(view: Matview) -> CreateIndex | None:
    """``CREATE UNIQUE INDEX CONCURRENTLY`` on the view's likely row key, if one is known
    (the same statement ``cache prepare`` builds, from :func:`pgcrisis.cache.keys.key_index`)."""
    if not view.key_columns:
        return None
    index = key_index(view, view.key_columns)
    return CreateIndex.written(index.name, index.create_sql())


def key_words(view: Matview) -> str:
    """How sure the key is, in words, for remedy summaries."""
    columns = ", ".join(view.key_columns)
    if view.key_from == "definition":
        return f"({columns}): its rows are grouped by them, one row each"
    return f"({columns}): its sampled values are all distinct; check it is the key"


def readiness_steps(views: Sequence[Matview]) -> tuple[list[Action], list[str]]:
    """Actions that make ``views`` concurrent-ready, and the views we cannot make ready."""
    steps: list[Action] = []
    stuck: list[str] = []
    for view in views:
        if view.concurrent_ready:
            continue
        index = key_index_action(view) if not view.has_key_index else None
        if not view.has_key_index and index is None:
            stuck.append(view.name)
            continue
        if index:
            steps.append(index)
        if not view.populated:
            steps.append(RefreshMatview(view.name))
    return steps, stuck
