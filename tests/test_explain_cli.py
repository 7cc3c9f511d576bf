"""`pgcrisis explain` end to end: output formats, --compact, and capture from a server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
from click.testing import CliRunner

from pgcrisis.cli.explain import _with_progress
from pgcrisis.cli.main import cli
from pgcrisis.plan import analyse_bytes, open_input
from tests.plans import hand
from tests.plans.pgformat import dumps

CORPUS = Path(__file__).parent / "plans" / "corpus"


def _run(*args: str, input: bytes | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["explain", *args], input=input)
    return result.exit_code, result.output


def test_json_follows_the_contract() -> None:
    code, out = _run(str(CORPUS / "initplan-subplan.json"), "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["schema"] == "pgcrisis.explain/1"
    assert set(doc["summary"]) >= {"execution_ms", "planning_ms", "jit_ms", "nodes", "bytes_read"}
    assert doc["summary"]["nodes"] == 5
    tip = doc["tips"][0]
    assert set(tip) >= {"code", "severity", "node", "title", "detail", "saving_ms"}
    assert (tip["code"], tip["node"], tip["severity"]) == ("missing-index", 5, "critical")
    hot = doc["hot_nodes"][0]
    assert set(hot) >= {"id", "node_type", "relation", "exclusive_ms", "share"}
    assert (hot["id"], hot["node_type"], hot["relation"]) == (5, "Seq Scan", "public.orders")
    assert 0.9 < hot["share"] <= 1.0


def test_terminal_shows_tree_bars_and_tips_under_nodes() -> None:
    code, out = _run(str(CORPUS / "sort-limit.json"))
    assert code == 0, out
    assert "Sort" in out and "sort-spill" in out and "█" in out
    assert "SET work_mem" in out


def test_terminal_folds_a_huge_plan() -> None:
    code, out = _run("-", input=dumps(hand.deep(1000)).encode())
    assert code == 0, out
    assert re.search(r"… [\d,]+ more nodes folded", out)


def test_html_is_one_self_contained_page(tmp_path: Path) -> None:
    target = tmp_path / "plan.html"
    code, out = _run(str(CORPUS / "initplan-subplan.json"), "--format", "html", "-o", str(target))
    assert code == 0, out
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<svg" in page and "missing-index" in page and "Seq Scan on public.orders" in page
    assert not re.search(r"<script|<link|src=|@import|url\(", page)


def test_progress_bar_gives_the_same_analysis() -> None:
    source = open_input(CORPUS / "hash-join.json", chunk_size=512)
    try:
        with_bar = _with_progress(source)
    finally:
        source.close()
    assert with_bar.summary == analyse_bytes((CORPUS / "hash-join.json").read_bytes()).summary


def test_terminal_output_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.txt"
    code, out = _run(str(CORPUS / "hash-join.txt"), "-o", str(target))
    assert code == 0, out
    assert "Hash Join" in target.read_text()


def test_compact_is_meaning_identical_and_leaves_strings_alone(tmp_path: Path) -> None:
    doc = hand.parallel()
    doc[0]["Plan"]["Output"] = ['a  "quoted"  b', "back\\slash \\\" x", "tab\there", "ünï  cödé",
                                '{"json": [1, 2]}', "\\\\"]
    source = tmp_path / "plan.json"
    source.write_text(dumps(doc), encoding="utf-8")
    code, out = _run(str(source), "--compact")
    assert code == 0, out
    assert json.loads(out) == doc
    assert out.count("\n") == 1
    assert '"a  \\"quoted\\"  b"' in out
    assert json.loads(out) == json.loads(json.dumps(doc, separators=(",", ":")))
    assert len(out.strip()) == len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False))


def test_compact_to_a_file_from_gzip(tmp_path: Path) -> None:
    import gzip

    source = tmp_path / "plan.json.gz"
    source.write_bytes(gzip.compress((CORPUS / "hash-join.json").read_bytes()))
    target = tmp_path / "small.json"
    code, out = _run(str(source), "--compact", "-o", str(target))
    assert code == 0, out
    assert json.loads(target.read_bytes()) == json.loads((CORPUS / "hash-join.json").read_bytes())


def test_compact_refuses_a_truncated_plan(tmp_path: Path) -> None:
    source = tmp_path / "cut.json"
    source.write_bytes((CORPUS / "hash-join.json").read_bytes()[:700])
    code, out = _run(str(source), "--compact")
    assert code == 3
    assert "truncated plan" in out


# -- capture ---------------------------------------------------------------------------------


def test_capture_query_and_writes_are_rolled_back(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE k (id int, n int); INSERT INTO k SELECT g, 0 FROM"
                     " generate_series(1, 100) g")
    code, out = _run("--dsn", db, "--query", "UPDATE k SET n = n + 1", "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["summary"]["execution_ms"] > 0
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT sum(n) FROM k").fetchone() == (0,)


def test_capture_file_view_and_no_analyze(db: str, tmp_path: Path) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute('CREATE SCHEMA app; CREATE VIEW app."Busy View" AS SELECT g FROM'
                     " generate_series(1, 10) g")
    query = tmp_path / "q.sql"
    query.write_text("SELECT count(*) FROM generate_series(1, 1000);\n")
    code, out = _run("--dsn", db, "--file", str(query), "--format", "json")
    assert code == 0, out
    assert json.loads(out)["summary"]["analyzed"] is True
    code, out = _run("--dsn", db, "--view", "app.Busy View", "--no-analyze", "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["summary"]["analyzed"] is False and doc["summary"]["execution_ms"] is None


def test_capture_timeout_is_one_line_exit_3(db: str) -> None:
    code, out = _run("--dsn", db, "--query", "SELECT pg_sleep(5)", "--timeout", "0.2")
    assert code == 3
    assert out.strip().count("\n") == 0 and "--timeout" in out


def test_capture_syntax_error_exit_3(db: str) -> None:
    code, out = _run("--dsn", db, "--query", "SELEC 1")
    assert code == 3 and "syntax error" in out


def test_compare_runs_twice_and_reports_the_difference(db: str) -> None:
    code, out = _run("--dsn", db, "--query", "SELECT sum(g) FROM generate_series(1, 20000) g",
                     "--compare", "jit=off", "--format", "json")
    assert code == 0, out
    compare = json.loads(out)["compare"]
    assert compare["setting"] == "jit=off"
    assert compare["baseline"]["execution_ms"] > 0 and compare["changed"]["execution_ms"] > 0
    assert "delta_ms" in compare


def test_flags_that_do_not_go_together() -> None:
    assert _run()[0] == 3
    assert _run("x.json", "--query", "SELECT 1")[0] == 3
    assert _run("--query", "SELECT 1", "--view", "v")[0] == 3
    assert _run("x.json", "--compare", "jit")[0] == 3


def test_compacting_once_leaves_the_compact_function_in_place() -> None:
    """The compactor's module is loaded on first use; it must not take the place of
    ``pgcrisis.plan.compact`` (a module named like the function did, and a later
    ``explain --compact`` in the same process called the module)."""
    import pgcrisis.plan

    source = open_input(CORPUS / "hash-join.json")
    try:
        assert b"".join(pgcrisis.plan.compact(source))
    finally:
        source.close()
    assert callable(pgcrisis.plan.compact)
