"""``pgcrisis capacity DSN``: one pass over the suite's real server says where each resource
stands now (an integer key near its end included) and what a forecast would need."""

from __future__ import annotations

import json

import psycopg
from click.testing import CliRunner

from pgcrisis.capacity.forecast import Verdict
from pgcrisis.cli.main import cli


def test_one_pass_says_what_it_can_and_what_it_would_need(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, note text)")
        conn.execute("INSERT INTO orders (note) SELECT 'x' FROM generate_series(1, 100)")
        conn.execute("SELECT setval('orders_id_seq', 2000000000)")
        conn.execute("ANALYZE orders")
    result = CliRunner().invoke(cli, ["capacity", db, "--cpus", "4", "--disk-size", "10GB",
                                      "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["source"] == "one pass" and doc["history_days"] == 0
    keys = {r["key"]: r for r in doc["resources"]}
    assert {"disk", "connections", "xid-freeze", "xid-wraparound", "cpu"} <= set(keys)
    seq = next(r for k, r in keys.items() if k.endswith("orders_id_seq"))
    assert seq["current"] == 2_000_000_000 and seq["limit"] == 2_147_483_647
    assert all(r["exhaustion"]["verdict"] in (Verdict.CANNOT_TELL, Verdict.REACHED)
               for r in doc["resources"])
    assert keys["disk"]["limit"] == 10 * 2**30
    assert any("pgcrisis record" in n for n in doc["needs"])
    assert any("rows since the statistics were reset" in n for n in doc["needs"])


def test_one_pass_on_the_terminal_leads_with_the_headline(db: str) -> None:
    result = CliRunner().invoke(cli, ["capacity", db])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Capacity of ") and "one pass" in lines[0]
    assert "no dates without a recording" in " ".join(" ".join(lines[1:3]).split())
