"""``pgcrisis cache prepare``: make views refreshable CONCURRENTLY, verifying keys first.

For each materialized view that cannot refresh concurrently, pick its row key (declared in
its comment, else its GROUP BY / DISTINCT columns, else a column unique and never NULL in
the data), check the data really is unique on it with no NULL keys (rows with a NULL key are
deleted and re-inserted by every concurrent refresh, and two of them cannot be matched),
then ``CREATE UNIQUE INDEX CONCURRENTLY``. A build that fails (a duplicate appeared) leaves
an invalid index, which is dropped again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from pgcrisis.cache.apply.refresh import refresh_statement
from pgcrisis.cache.catalog import matview_columns
from pgcrisis.cache.keys import KeyCheck, PrepareStep, declared_key, key_index
from pgcrisis.journal import apply
from pgcrisis.model.matviews import Matview


def _check(conn: psycopg.Connection[Any], view: str, columns: Sequence[str]) -> KeyCheck:
    cols = [sql.Identifier(c) for c in columns]
    query = sql.SQL(
        "SELECT count(*), count(DISTINCT ({keys})), count(*) FILTER (WHERE {nulls})"
        " FROM {view}").format(
        keys=sql.SQL(", ").join(cols) if len(cols) > 1 else cols[0],
        nulls=sql.SQL(" OR ").join(sql.SQL("{} IS NULL").format(c) for c in cols),
        view=sql.SQL(view))
    row = conn.execute(query).fetchone()
    assert row is not None
    return KeyCheck(int(row[0]), int(row[1]), int(row[2]))


def _single_columns(conn: psycopg.Connection[Any], view: str,
                    columns: Sequence[str]) -> tuple[str, ...]:
    """The first column unique and never NULL in the data, in one pass over the view."""
    if not columns:
        return ()
    parts = [sql.SQL("count(DISTINCT {c}) = count(*) AND count({c}) = count(*)").format(
        c=sql.Identifier(c)) for c in columns]
    row = conn.execute(sql.SQL("SELECT count(*), {} FROM {}").format(
        sql.SQL(", ").join(parts), sql.SQL(view))).fetchone()
    assert row is not None
    if not row[0]:
        return ()  # an empty view proves nothing
    for column, ok in zip(columns, row[1:], strict=True):
        if ok:
            return (column,)
    return ()


def plan_prepare(conn: psycopg.Connection[Any], views: Iterable[Matview]) -> list[PrepareStep]:
    """What to do per view; reads the data (one or two scans of each unready view)."""
    meta = matview_columns(conn)
    steps: list[PrepareStep] = []
    for view in views:
        if view.concurrent_ready:
            steps.append(PrepareStep(view.name, "ready"))
            continue
        if view.has_key_index:
            steps.append(PrepareStep(
                view.name, "populate", sql=(refresh_statement(view.name, concurrently=False),),
                reason="it has a usable unique index but is not populated: one plain refresh "
                       "(nobody can read an unpopulated view, so it blocks no reader)"))
            continue
        if not view.populated:
            steps.append(PrepareStep(view.name, "no-key", reason="it is not populated: refresh "
                                     "it once before its data can show a key"))
            continue
        info = meta.get(view.name, {})
        columns = list(info.get("columns") or [])
        indexable = dict(zip(columns, info.get("indexable") or [], strict=True))
        key, source = declared_key(str(info.get("comment", ""))), "declared"
        if not key and view.key_from == "definition":
            key, source = view.key_columns, "definition"
        if key:
            missing = [c for c in key if c not in indexable]
            if missing:
                steps.append(PrepareStep(view.name, "refused", key, source,
                                         reason=f"the {source} key names no column {missing[0]}"))
                continue
            found = _check(conn, view.name, key)
            if not found.unique:
                steps.append(PrepareStep(
                    view.name, "refused", key, source,
                    reason=(f"the {source} key ({', '.join(key)}) is not a row key: "
                            f"{found.rows - found.distinct:,} duplicate row(s) and "
                            f"{found.null_rows:,} with a NULL key in {found.rows:,} rows")))
                continue
        else:
            key = _single_columns(conn, view.name, [c for c in columns if indexable.get(c)])
            source = "data"
            if not key:
                steps.append(PrepareStep(
                    view.name, "no-key",
                    reason="no column is unique and never NULL in its data; declare the key "
                           "in its comment (COMMENT ON MATERIALIZED VIEW ... IS "
                           "'pgcrisis key: a, b')"))
                continue
        index = key_index(view, key)
        steps.append(PrepareStep(view.name, "index", key, source, (index.create_sql(),),
                                 reason=f"key ({', '.join(key)}) from the {source}, verified "
                                        "unique with no NULLs", index=index))
    return steps


def apply_prepare(conn: psycopg.Connection[Any], steps: Iterable[PrepareStep],
                  show: Callable[[str], None] | None = None) -> list[tuple[PrepareStep, str]]:
    """Run each step's SQL (journaled); ``(step, error)`` per step run, error '' when fine."""
    done: list[tuple[PrepareStep, str]] = []
    for step in steps:
        if not step.sql:
            continue
        results = apply(conn, step.sql, reason=f"cache prepare {step.view}", show=show)
        failed = next((r for r in results if not r.ok), None)
        if failed is not None and step.index is not None:
            # a failed CREATE INDEX CONCURRENTLY leaves an invalid index behind
            apply(conn, [step.index.drop_sql()],
                  reason=f"cache prepare {step.view}: drop the failed index", show=show)
        done.append((step, failed.error if failed else ""))
    return done
