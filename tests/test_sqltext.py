"""`pgcrisis.sqltext` writes names and strings exactly as the server and psycopg do: `ident`
as the server's own quote_ident(), so the SQL pgcrisis shows reads like the names its
catalogue queries return; `quoted` and `literal` as psycopg's `sql.Identifier` and
`sql.Literal` compose them for a server, so what is shown is what runs."""

from __future__ import annotations

import psycopg
from psycopg import sql

from pgcrisis.sqltext import ident, literal, qualified, quoted

NAMES = ["customer_id", "_x1", "order", "user", "select", "int", "left", "name", "value",
         "Total", "a b", 'a"b', "a$b", "1st", "été", "mv_customer_totals_customer_id_key"]
TEXTS = ["", "x", "it's", "''", 'a"b', "a\\b", "été", "line\nbreak", "5min", "-- not a comment"]


def test_ident_matches_the_servers_quote_ident(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        rows = conn.execute("SELECT n, quote_ident(n) FROM unnest(%s::text[]) n",
                            (NAMES,)).fetchall()
    assert {n: ident(n) for n in NAMES} == dict(rows)
    assert qualified("public", "order") == 'public."order"'


def test_quoted_and_literal_are_what_psycopg_composes_for_the_server(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        assert conn.execute("SHOW standard_conforming_strings").fetchone() == ("on",)
        for name in NAMES:
            assert quoted(name) == sql.Identifier(name).as_string(conn), name
        assert quoted("public", "a b") == sql.Identifier("public", "a b").as_string(conn)
        for text in TEXTS:  # psycopg writes a backslash as E'\\' (the server reads both)
            if "\\" not in text:
                assert literal(text) == sql.Literal(text).as_string(conn), text
        # and the server reads each back as the text it was
        rows = conn.execute(sql.SQL("SELECT {}").format(
            sql.SQL(", ").join(sql.SQL(literal(t)) for t in TEXTS))).fetchone()
    assert rows == tuple(TEXTS)
