"""pgcrisis.sqlparse: which columns a statement's predicates compare, per table."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgcrisis.sqlparse
from pgcrisis.sqlparse import Predicate, SqlParseError, TableName, analyze, index_columns


def test_doctests() -> None:
    result = doctest.testmod(pgcrisis.sqlparse)
    assert result.attempted > 0 and result.failed == 0


def _preds(text: str) -> list[tuple[str | None, str, str]]:
    return [(str(p.table) if p.table else None, p.column, p.op)
            for p in analyze(text).predicates]


def test_order_workflow_insert_select() -> None:
    shape = analyze("INSERT INTO order_items (order_id, product, qty, price) "
                    "SELECT $1, product, qty, price FROM standing_order_items "
                    "WHERE customer_id = $2 AND active")
    assert shape.kind == "insert"
    assert shape.params == 2
    assert shape.tables == (TableName(None, "order_items"),
                            TableName(None, "standing_order_items"))
    assert [(str(p.table), p.column, p.op) for p in shape.predicates] == [
        ("standing_order_items", "customer_id", "eq")]


@pytest.mark.parametrize(("text", "expected"), [
    ("SELECT * FROM t WHERE a IN ($1, $2)", [("t", "a", "in")]),
    ("SELECT * FROM t WHERE a = ANY($1)", [("t", "a", "in")]),
    ("SELECT * FROM t WHERE a BETWEEN $1 AND $2", [("t", "a", "range")]),
    ("SELECT * FROM t WHERE $1 < a", [("t", "a", "range")]),
    ("SELECT * FROM t WHERE created_at > now() - $1::interval", [("t", "created_at", "range")]),
    ("SELECT * FROM t WHERE a OPERATOR(pg_catalog.=) $1", [("t", "a", "eq")]),
    # an OR offers no single index; a column against a column is a join, not a lookup
    ("SELECT * FROM t WHERE a = $1 OR b = $2", []),
    ("SELECT * FROM t WHERE a = b", []),
    ("SELECT * FROM t WHERE a <> $1 AND b LIKE $2 AND lower(c) = $3", []),
    ("DELETE FROM public.audit_log WHERE changed_at < $1 AND processed",
     [("public.audit_log", "changed_at", "range")]),
])
def test_predicates(text: str, expected: list[tuple[str | None, str, str]]) -> None:
    assert _preds(text) == expected


def test_aliases_joins_and_subqueries_resolve_to_their_tables() -> None:
    text = ("SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id AND c.region = $1 "
            "WHERE o.status = $2 AND EXISTS (SELECT 1 FROM order_items i "
            "WHERE i.order_id = o.id AND i.product = $3) AND created_at > $4")
    preds = analyze(text).predicates
    by_column = {p.column: p for p in preds}
    assert by_column["region"].table == TableName(None, "customers")
    assert by_column["status"].table == TableName(None, "orders")
    assert by_column["product"].table == TableName(None, "order_items")
    # unqualified in a join: the caller decides with the tables' columns
    created = by_column["created_at"]
    assert created.table is None
    assert set(created.scope) == {TableName(None, "orders"), TableName(None, "customers")}


def test_ctes_and_derived_tables_are_not_tables() -> None:
    text = ("WITH recent AS (SELECT * FROM orders WHERE created_at > $1) "
            "SELECT * FROM recent r JOIN (SELECT * FROM customers WHERE region = $2) c "
            "ON c.id = r.customer_id WHERE r.status = $3 AND c.name = $4")
    assert _preds(text) == [("orders", "created_at", "range"), ("customers", "region", "eq")]
    assert TableName(None, "recent") not in analyze(text).tables
    # renamed columns are not the table's
    assert _preds("SELECT * FROM t AS x(a, b) WHERE x.a = $1") == []


def test_update_with_scalar_subquery() -> None:
    text = ("UPDATE orders SET total = (SELECT coalesce(sum(qty * price), $3) FROM order_items "
            "WHERE order_id = $1) WHERE id = $2")
    assert _preds(text) == [("orders", "id", "eq"), ("order_items", "order_id", "eq")]


def test_monitoring_and_utility_statements() -> None:
    assert not analyze("SELECT * FROM pg_stat_activity a JOIN pg_catalog.pg_locks l "
                       "USING (pid)").reads_user_tables
    assert not analyze('SELECT * FROM "public"."pg_stat_statements"').reads_user_tables
    assert not analyze("EXPLAIN SELECT * FROM orders").is_dml
    assert analyze("SELECT * FROM orders, pg_class").reads_user_tables


def test_unparseable_text_raises() -> None:
    with pytest.raises(SqlParseError):
        analyze("SELECT * FROM orders WHERE")
    with pytest.raises(SqlParseError):
        analyze("SELECT 1; SELECT 2")


def test_index_columns_put_equality_first() -> None:
    preds = [Predicate("created_at", "range", None), Predicate("status", "in", None),
             Predicate("customer_id", "eq", None)]
    assert index_columns(preds) == ("status", "customer_id", "created_at")
    assert index_columns([]) == ()


_WORDS = st.sampled_from([
    "SELECT", "*", "FROM", "t", "u", "WHERE", "a", "b", "=", "<", "$1", "$2", "1", "AND", "OR",
    "IN", "(", ")", ",", "JOIN", "ON", "x.a", "EXISTS", "WITH", "AS", "UPDATE", "SET",
    "DELETE", "INSERT", "INTO", "VALUES", "BETWEEN", "ANY", "NOT", "'s'", ";", "--", "\n",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, max_size=25).map(" ".join) | st.text(max_size=60))
def test_analyze_raises_nothing_but_sql_parse_error(text: str) -> None:
    try:
        shape = analyze(text)
    except SqlParseError:
        return
    assert all(p.op in ("eq", "in", "range") for p in shape.predicates)
