"""`pgcrisis.sqltext.ident` quotes exactly as the server's own quote_ident() does, so the SQL
pgcrisis shows reads like the names its catalogue queries return, and runs."""

from __future__ import annotations

import psycopg

from pgcrisis.sqltext import ident, qualified

NAMES = ["customer_id", "_x1", "order", "user", "select", "int", "left", "name", "value",
         "Total", "a b", 'a"b', "a$b", "1st", "été", "mv_customer_totals_customer_id_key"]


def test_ident_matches_the_servers_quote_ident(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        rows = conn.execute("SELECT n, quote_ident(n) FROM unnest(%s::text[]) n",
                            (NAMES,)).fetchall()
    assert {n: ident(n) for n in NAMES} == dict(rows)
    assert qualified("public", "order") == 'public."order"'
