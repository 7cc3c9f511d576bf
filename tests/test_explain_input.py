"""Every input form `pgcrisis explain` accepts, and one clear line (exit 3) for the rest."""

from __future__ import annotations

import doctest
import gzip
import json
import re
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from pgcrisis.cli.main import cli
from pgcrisis.errors import InputError
from pgcrisis.plan import _predicate, _textclean, _textscan, analyse_bytes
from tests.plans import hand
from tests.plans.pgformat import dumps

PLANS = Path(__file__).parent / "plans"
CORPUS = PLANS / "corpus"
PSQL = PLANS / "psql"


def _shape(data: bytes) -> list[tuple[int, str, float]]:
    analysis = analyse_bytes(data)
    assert analysis.nodes is not None
    return [(n.id, n.node_type, round(n.exclusive_ms, 3)) for n in analysis.nodes]


# -- accepted forms ------------------------------------------------------------------------


def test_psql_array_and_single_plan_object_are_the_same() -> None:
    doc = hand.parallel()
    assert _shape(dumps(doc).encode()) == _shape(dumps(doc[0]).encode())


def test_gzip_is_read_transparently() -> None:
    data = (CORPUS / "hash-join.json").read_bytes()
    assert _shape(gzip.compress(data)) == _shape(data)


def test_gzip_of_a_text_plan() -> None:
    data = (CORPUS / "hash-join.txt").read_bytes()
    assert _shape(gzip.compress(data)) == _shape(data)


@pytest.mark.parametrize("name", ["aligned-json.out", "unaligned-json.out", "aligned-text.out"])
def test_psql_decorations_and_query_plan_header_are_removed(name: str) -> None:
    analysis = analyse_bytes((PSQL / name).read_bytes())
    assert analysis.summary.nodes == 5
    assert analysis.summary.execution_ms is not None
    assert [n.node_type for n in analysis.hot_nodes][:1] in (["Seq Scan"], ["Gather Merge"])


def test_several_plans_one_after_another_are_summed() -> None:
    one = dumps(hand.parallel())
    analysis = analyse_bytes((one + "\n" + one + "\n").encode(), parser="strict")
    assert analysis.summary.plans == 2
    assert analysis.summary.execution_ms == pytest.approx(106.0)


@pytest.mark.parametrize("parser", ["nodes", "strict"])
def test_psql_array_of_two_statements(parser: str) -> None:
    doc = hand.parallel() + hand.loops_initplan_subplan_cte()
    analysis = analyse_bytes(dumps(doc).encode(), parser=parser)
    assert analysis.summary.plans == 2
    assert analysis.summary.nodes == 4 + 9
    assert analysis.summary.execution_ms == pytest.approx(53.0 + 110.0)
    assert analysis.summary.triggers_ms == pytest.approx(3.0)
    assert analysis.nodes is not None
    assert [n.parent_id for n in analysis.nodes][4] is None  # the second statement's root


def test_crlf_line_endings() -> None:
    data = dumps(hand.parallel()).replace("\n", "\r\n").encode()
    assert _shape(data) == _shape(dumps(hand.parallel()).encode())


def test_text_plan_reports_what_it_lacks() -> None:
    analysis = analyse_bytes((CORPUS / "hash-join.txt").read_bytes())
    assert analysis.input_format == "text"
    assert any("text plan" in note for note in analysis.notes)


def test_plan_without_analyze_ranks_by_cost() -> None:
    text = (b'[{"Plan": {"Node Type": "Seq Scan", "Relation Name": "t", "Alias": "t",'
            b' "Total Cost": 10.0, "Plan Rows": 5}}]')
    analysis = analyse_bytes(text)
    assert not analysis.summary.analyzed
    assert analysis.hot_nodes[0].exclusive_cost == 10.0
    assert any("no ANALYZE" in note for note in analysis.notes)


# -- refused input: one line, naming where and what was expected ---------------------------


def _error(data: bytes) -> str:
    with pytest.raises(InputError) as caught:
        analyse_bytes(data, name="plan.json")
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("data", [b"", b"   \n\n  \t\n"], ids=["empty", "blank"])
def test_empty_input(data: bytes) -> None:
    assert "empty input" in _error(data)


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\xff\xfe\xfd" * 100],
                         ids=["nul-bytes", "not-utf8"])
def test_binary_input(data: bytes) -> None:
    message = _error(data)
    assert "binary input" in message and "byte offset" in message


def test_truncated_indented_json() -> None:
    data = (CORPUS / "hash-join.json").read_bytes()
    message = _error(data[: len(data) // 2])
    assert "truncated plan" in message and "line" in message and "byte offset" in message


def test_truncated_at_a_line_boundary() -> None:
    data = (CORPUS / "hash-join.json").read_bytes()
    cut = data.rfind(b"\n", 0, len(data) // 2) + 1
    assert "truncated plan" in _error(data[:cut])


@pytest.mark.parametrize("parser", ["strict", "nodes"])
def test_truncated_compact_json(parser: str) -> None:
    data = json.dumps(json.loads((CORPUS / "hash-join.json").read_bytes())).encode()
    with pytest.raises(InputError) as caught:
        analyse_bytes(data[:-30], parser=parser)
    message = str(caught.value)
    assert "truncated plan" in message and "byte offset" in message


def test_truncated_inside_a_string() -> None:
    data = json.dumps(hand.parallel()).encode()
    cut = data.index(b"Gather") + 3
    assert "byte offset" in _error(data[:cut])


def test_truncated_gzip() -> None:
    data = gzip.compress((CORPUS / "hash-join.json").read_bytes())
    message = _error(data[: len(data) // 2])
    assert "truncated" in message


def test_json_that_is_not_a_plan() -> None:
    message = _error(b'{"name": "not a plan", "values": [1, 2, 3]}')
    assert "not a PostgreSQL plan" in message or "without a \"Plan\" key" in message
    assert "byte offset" in message


def test_json_array_of_numbers() -> None:
    message = _error(b"[1, 2, 3]")
    assert "expected a plan object" in message


def test_invalid_json_names_line_and_offset() -> None:
    message = _error(b'[\n  {\n    "Plan": {"Node Type": "Seq Scan",, }\n  }\n]')
    assert "line 3" in message and "byte offset 43" in message


def test_text_that_is_not_a_plan() -> None:
    message = _error(b"hello world\nthis is a shopping list\n")
    assert "not a PostgreSQL plan" in message and "hello world" in message


# -- through the CLI -----------------------------------------------------------------------


def test_cli_error_is_one_line_and_exit_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'[{"Plan": {"Node Type": "Seq')
    result = CliRunner().invoke(cli, ["explain", str(bad)])
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pgcrisis: ")


def test_cli_missing_file_exit_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["explain", str(tmp_path / "nope.json")])
    assert result.exit_code == 3
    assert "cannot open" in result.output


def test_cli_reads_stdin() -> None:
    data = (CORPUS / "hash-join.json").read_bytes()
    result = CliRunner().invoke(cli, ["explain", "-", "--format", "json"], input=data)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["summary"]["nodes"] == 5


@pytest.mark.parametrize("module", [_textscan, _textclean, _predicate],
                         ids=lambda m: m.__name__)
def test_doctests(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted and not result.failed


def test_timing_off_is_noted() -> None:
    text = (b"Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4) (actual rows=2550 loops=1)\n"
            b"Planning Time: 0.050 ms\nExecution Time: 0.500 ms\n")
    analysis = analyse_bytes(text)
    assert analysis.summary.nodes == 1
    assert any("TIMING OFF" in note for note in analysis.notes)


# -- every byte checked, not only the first 64 kB and the end --------------------------------


def _big_indented() -> bytes:
    data = dumps(hand.deep(600)).encode()
    assert len(data) > 4 * 65536
    return data


@pytest.mark.parametrize(("bad", "says"), [(b"\x00", "NUL byte"), (b"\xff", "invalid UTF-8")],
                         ids=["nul", "utf8"])
def test_a_corrupt_byte_deep_inside_is_named_by_its_offset(bad: bytes, says: str) -> None:
    data = _big_indented()
    at = data.index(b'"Actual Rows"', len(data) * 3 // 4)
    message = _error(data[:at] + bad + data[at + 1:])
    assert says in message and f"byte offset {at:,}" in message


def test_a_block_lost_in_the_middle_of_indented_json() -> None:
    data = _big_indented()
    # drop one node's closing line three quarters in: the brackets no longer balance
    at = data.index(b"\n" + b" " * 10, len(data) * 3 // 4)
    start = data.index(b"}", at)
    line_start = data.rindex(b"\n", 0, start) + 1
    line_end = data.index(b"\n", start) + 1
    assert data[line_start:line_end].strip() in (b"}", b"},")
    message = _error(data[:line_start] + data[line_end:])
    # named where the JSON first stops making sense: the next ']' where a ',' was due
    assert "invalid plan JSON" in message and "expected ','" in message
    assert line_start <= _offset(message) < line_start + 4096


def test_a_doubled_closing_line_in_the_middle() -> None:
    data = _big_indented()
    at = data.index(b"\n", len(data) * 3 // 4)
    closing = data.index(b"}\n", at)
    line_start = data.rindex(b"\n", 0, closing) + 1
    doubled = data[:line_start] + b"}\n" * 700 + data[line_start:]
    message = _error(doubled)
    assert "invalid plan JSON" in message and "the ']' ending \"Plans\"" in message
    assert line_start <= _offset(message) < line_start + 4096


def _offset(message: str) -> int:
    found = re.search(r"byte offset ([\d,]+)", message)
    assert found is not None, message
    return int(found.group(1).replace(",", ""))
