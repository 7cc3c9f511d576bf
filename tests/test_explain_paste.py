"""Every way people paste a plan, each a file in tests/plans/inputs/ with the figures it must
produce (``expected.json``: the server's own figures, see ``tests/plans/capture_inputs.py``).

A file whose indentation cannot be read without guessing must stop with one line naming
the line, never produce a tree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgcrisis.cli.main import cli
from pgcrisis.errors import InputError
from pgcrisis.plan import analyse_bytes

INPUTS = Path(__file__).parent / "plans" / "inputs"
EXPECTED: dict[str, dict[str, Any]] = json.loads((INPUTS / "expected.json").read_text())
READ = {name: want for name, want in EXPECTED.items() if "error" not in want}
REFUSED = {name: want for name, want in EXPECTED.items() if "error" in want}


def test_every_input_file_has_its_figures() -> None:
    files = {p.name for p in INPUTS.iterdir() if p.name != "expected.json"}
    assert files == set(EXPECTED)
    assert len(READ) >= 25 and REFUSED


@pytest.mark.parametrize("name", sorted(READ))
def test_pasted_plan_gives_the_servers_figures(name: str) -> None:
    want = READ[name]
    analysis = analyse_bytes((INPUTS / name).read_bytes(), name=name)
    summary = analysis.summary
    assert summary.plans == want["plans"]
    assert summary.nodes == want["nodes"]
    assert analysis.nodes is not None
    assert analysis.nodes[0].node_type == want["root"]
    if want["execution_ms"] is None:
        assert summary.execution_ms is None
    else:
        assert summary.execution_ms == pytest.approx(want["execution_ms"], abs=0.0005)


#: the files that decorate plain.txt's rows (the others are captures of their own)
DECORATED = sorted(name for name in READ if name.startswith((
    "psql-", "pgadmin", "dbeaver", "terminal", "tabs", "total-", "execution-"))
    and "session" not in name)


@pytest.mark.parametrize("name", DECORATED)
def test_same_tree_as_the_undecorated_plan(name: str) -> None:
    """Decoration changes nothing: each node's type, parent and rows are the plain file's."""
    plain = analyse_bytes((INPUTS / "plain.txt").read_bytes())
    pasted = analyse_bytes((INPUTS / name).read_bytes())
    assert plain.nodes is not None and pasted.nodes is not None

    def tree(nodes: Any) -> list[tuple[Any, ...]]:
        return [(n.id, n.parent_id, n.node_type, n.relation, n.actual_rows, n.relationship,
                 round(n.exclusive_ms, 3)) for n in nodes]
    assert tree(pasted.nodes) == tree(plain.nodes)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_ambiguous_input_stops_naming_the_line(name: str) -> None:
    result = CliRunner().invoke(cli, ["explain", str(INPUTS / name)])
    assert result.exit_code == 3, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert REFUSED[name]["error"] + ":" in lines[0]
    assert "tab" in lines[0]
    with pytest.raises(InputError):
        analyse_bytes((INPUTS / name).read_bytes())


def test_several_plans_each_named_in_the_notes() -> None:
    name = "psql-session-two-plans.txt"
    analysis = analyse_bytes((INPUTS / name).read_bytes(), name=name)
    listed = next(n for n in analysis.notes if n.startswith("2 plans in this input"))
    assert "#1 Limit, 9 nodes" in listed and "#2 Aggregate, 2 nodes" in listed
    assert any("skipped" in n for n in analysis.notes)   # the command and comments


def test_wrapped_lines_are_counted_in_a_note() -> None:
    analysis = analyse_bytes((INPUTS / "terminal-wrapped-80.txt").read_bytes())
    assert any("wrapped by a terminal" in n for n in analysis.notes)


def test_prompt_line_is_not_called_invalid_json() -> None:
    analysis = analyse_bytes((INPUTS / "json-psql-prompt.txt").read_bytes())
    assert analysis.summary.nodes == EXPECTED["json-psql-prompt.txt"]["nodes"]
    assert not any("more plan" in n for n in analysis.notes)


def test_a_parenthesis_inside_a_literal_does_not_join_lines(db: str) -> None:
    """A filter with '(' in a string literal, from the server: not a wrapped line."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE n AS SELECT g AS id, md5(g::text) || '(' AS note"
                     " FROM generate_series(1, 1000) g; ANALYZE n")
        rows = [r[0] for r in conn.execute(
            "EXPLAIN (ANALYZE) SELECT count(*) FROM n WHERE note LIKE '%(%' AND id > 5")]
    text = "\n".join(rows) + "\n"
    assert "'%(%'" in text
    analysis = analyse_bytes(text.encode())
    assert analysis.summary.nodes == 2
    assert not any("wrapped" in note for note in analysis.notes)
    wrapped = "".join(line[:50] + "\n" + line[50:] + "\n" if len(line) > 50 else line + "\n"
                      for line in rows)
    rejoined = analyse_bytes(wrapped.encode())
    assert rejoined.summary.nodes == 2
    assert rejoined.summary.execution_ms == analysis.summary.execution_ms


@pytest.mark.parametrize("parser", [None, "strict", "nodes"])
def test_prompts_around_plain_json_are_not_invalid_json(parser: str | None) -> None:
    plan = (Path(__file__).parent / "plans" / "corpus" / "hash-join.json").read_bytes()
    pasted = b"app=# EXPLAIN (ANALYZE, FORMAT JSON) SELECT ...;\n" + plan + b"app=# \\q\n"
    analysis = analyse_bytes(pasted, parser=parser)
    assert analysis.summary.nodes == analyse_bytes(plan).summary.nodes
    assert any("after the plan" in note for note in analysis.notes)
