"""The node-by-node JSON path (``_nodescan``), for every layout: the same analysis as the
strict parser's whatever the whitespace, chunk size or key order, and every byte checked: a
wrong byte anywhere is named by its offset, and a cut plan says it is cut, never a silently
smaller tree."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pgcrisis.errors import InputError
from pgcrisis.plan import PlanAnalysis, _nodescan, analyse_bytes
from pgcrisis.plan._analysis import Analyzer
from pgcrisis.plan._nodescan import NodeScanner
from pgcrisis.plan._source import Position
from tests.plans import hand
from tests.plans.pgformat import dumps

CORPUS_PLANS = {
    "loops-initplan-subplan-cte": hand.loops_initplan_subplan_cte,
    "nested-ctes": hand.nested_ctes_initplan_deep,
    "parallel": hand.parallel,
    "initplan-below-gather": hand.initplan_below_gather,
    "deep-40": lambda: hand.deep(40),
}
LAYOUTS = {
    "compact": lambda doc: json.dumps(doc, separators=(",", ":")),
    "indent-2": lambda doc: json.dumps(doc, indent=2),
    "indent-4": lambda doc: json.dumps(doc, indent=4),
    "tabs": lambda doc: json.dumps(doc, indent="\t"),
    "crlf": lambda doc: json.dumps(doc, indent=2).replace("\n", "\r\n"),
    "non-ascii": lambda doc: json.dumps(doc, indent=1, ensure_ascii=False),
}


def _digest(analysis: PlanAnalysis) -> Any:
    return (analysis.summary, analysis.nodes, analysis.tips)


def _nodes(text: str | bytes, chunk_size: int | None = None) -> PlanAnalysis:
    data = text.encode() if isinstance(text, str) else text
    return analyse_bytes(data, name="plan.json", parser="nodes", chunk_size=chunk_size)


def _error(text: str | bytes, chunk_size: int | None = None) -> str:
    with pytest.raises(InputError) as caught:
        _nodes(text, chunk_size)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("plan", sorted(CORPUS_PLANS))
@pytest.mark.parametrize("chunk_size", [None, 61])
def test_every_layout_reads_as_the_strict_parser_reads_it(plan: str, layout: str,
                                                 chunk_size: int | None) -> None:
    doc = CORPUS_PLANS[plan]()
    expected = _digest(analyse_bytes(dumps(doc).encode(), parser="strict"))
    assert _digest(_nodes(LAYOUTS[layout](doc), chunk_size)) == expected


def test_keys_after_plans_are_read_too() -> None:
    """A tool that sorts keys puts ``Plans`` before ``Relation Name`` or ``Total Cost``:
    those keys still belong to their node."""
    doc = hand.loops_initplan_subplan_cte()
    expected = _digest(analyse_bytes(dumps(doc).encode(), parser="strict"))
    assert _digest(_nodes(json.dumps(doc, indent=2, sort_keys=True), 53)) == expected


def test_several_plans_one_after_another() -> None:
    one = json.dumps(hand.parallel(), separators=(",", ":"))
    analysis = _nodes(one + "\n" + one)
    assert analysis.summary.plans == 2


def _awkward_strings() -> list[dict[str, Any]]:
    """Braces and brackets inside strings, where counting them would misjudge a node's end:
    unbalanced in a childless node, in a node with children (before its "Plans"), and
    balanced (an array literal) in a sibling."""
    def scan(i: int, condition: str) -> dict[str, Any]:
        return hand.node("Seq Scan", 1.0 + i, rows=10, plan_rows=10_000, **{
            "Parent Relationship": "Member", "Relation Name": f"t{i}", "Alias": f"t{i}",
            "Filter": condition, "Rows Removed by Filter": 5_000_000})
    members = [scan(0, "(note = '}')"), scan(1, "(note = '{')"),
               scan(2, "(ids = ANY ('{1,2,3}'::integer[]))"), scan(3, "(note ~ '[a-z]{3')")]
    hashed = hand.node("Hash", 2.0, children=[scan(4, "(note <> '},{')")])
    join = hand.node("Hash Join", 10.0, children=[scan(5, "(x = ']')"), hashed], **{
        "Join Type": "Inner", "Hash Cond": "(a.note = '}]')"})
    return hand.statement(hand.node("Append", 30.0, children=[*members, join]), 31.0)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_braces_inside_strings_do_not_mislead(layout: str) -> None:
    doc = _awkward_strings()
    text = LAYOUTS[layout](doc)
    expected = _digest(analyse_bytes(text.encode(), parser="strict"))
    analysis = _nodes(text)
    assert _digest(analysis) == expected
    assert analysis.summary.nodes == 9
    assert sum("missing-index" in tip.code for tip in analysis.tips) >= 1


def test_a_value_of_an_unexpected_type_is_read_as_the_strict_parser_reads_it() -> None:
    """msgspec decodes the figures typed; a hand-edited plan with a number in quotes is
    left to the exact path, which reads it as every other parser does."""
    doc = hand.statement(hand.node("Seq Scan", 5.0, rows=10, plan_rows=1000, **{
        "Relation Name": "t"}), 6.0)
    doc[0]["Plan"]["Actual Rows"] = "10"
    text = json.dumps(doc)
    assert _digest(_nodes(text)) == _digest(analyse_bytes(text.encode(), parser="strict"))
    assert _nodes(text).nodes[0].actual_rows == 10.0  # type: ignore[index]


def test_ordinary_nodes_never_take_the_exact_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact path (the standard library's decoder, three times slower) is for what
    msgspec cannot take: a big plan of ordinary nodes never reaches it."""
    def refuse(*_: Any) -> None:
        raise AssertionError("the exact path was taken")

    monkeypatch.setattr(_nodescan, "_scan_node", refuse)
    scans = [hand.node("Seq Scan", 0.1, **{"Parent Relationship": "Member",
                                          "Relation Name": f"t{i}", "Filter": "(a > 1)"})
             for i in range(3000)]
    doc = hand.statement(hand.node("Append", 300.0, children=scans), 301.0)
    for layout in ("compact", "indent-2", "tabs"):
        assert _nodes(LAYOUTS[layout](doc), 4096).summary.nodes == 3001


def _deep_compact() -> tuple[str, int]:
    text = json.dumps(hand.deep(300), separators=(",", ":"))
    return text, text.index('"Actual Rows"', len(text) * 3 // 4)


@pytest.mark.parametrize("chunk_size", [None, 97])
def test_a_wrong_separator_deep_inside_is_named_by_its_offset(chunk_size: int | None) -> None:
    text, at = _deep_compact()
    comma = text.rindex(",", 0, at)
    message = _error(text[:comma] + ";" + text[comma + 1:], chunk_size)
    assert "invalid plan JSON" in message and f"byte offset {comma:,}" in message


@pytest.mark.parametrize("chunk_size", [None, 97])
def test_an_error_names_its_line_too(chunk_size: int | None) -> None:
    text = json.dumps(hand.deep(300), indent=2)
    at = text.index('"Actual Rows"', len(text) * 3 // 4)
    comma = text.rindex(",", 0, at)
    message = _error(text[:comma] + ";" + text[comma + 1:], chunk_size)
    assert f"line {text.count(chr(10), 0, comma) + 1:,}, byte offset {comma:,}:" in message


@pytest.mark.parametrize("chunk_size", [None, 7])  # 7: characters cut between chunks
def test_offsets_are_bytes_after_non_ascii_text(chunk_size: int | None) -> None:
    # beyond the first chunk (the sniffed 64 kB), characters of 2, 3 and 4 bytes in every node
    scans = [hand.node("Seq Scan", 0.1, **{"Parent Relationship": "Member"},
                       **{"Relation Name": f"t{i}", "Alias": "café_€_𝄞"}) for i in range(600)]
    doc = hand.statement(hand.node("Append", 60.0, children=scans), 61.0)
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    at = text.index('"Actual Rows"', len(text) * 3 // 4)
    comma = text.rindex(",", 0, at)
    assert len(text[:comma].encode()) > 70_000
    broken = (text[:comma] + ";" + text[comma + 1:]).encode()
    assert f"byte offset {len(text[:comma].encode()):,}" in _error(broken, chunk_size)


def test_a_character_cut_between_chunks_is_counted_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk may end inside a character (compact input is cut anywhere): the offsets that
    follow still count every byte once (no read-ahead here, so the node is decoded as soon
    as the second chunk arrives)."""
    monkeypatch.setattr(_nodescan, "_AHEAD", 0)
    text = ('[{"Plan":{"Node Type":"Seq Scan","Alias":"€€€","Actual Rows":1;'
            '"Actual Loops":1}}]').encode()
    cut = text.index("€".encode()) + 1  # one byte of the three
    bad = text.index(b";")
    with pytest.raises(InputError) as caught:
        NodeScanner(Analyzer(), "plan.json").feed([text[:cut], text[cut:]], Position())
    assert f"byte offset {bad:,}:" in str(caught.value)


def test_a_lost_closing_bracket_is_not_a_smaller_tree() -> None:
    text, at = _deep_compact()
    closing = text.index("}", at)
    message = _error(text[:closing] + text[closing + 1:])
    assert "byte offset" in message


def test_a_doubled_closing_bracket_is_refused() -> None:
    text, at = _deep_compact()
    closing = text.index("}]", at)
    message = _error(text[:closing] + "}" + text[closing:])
    assert "byte offset" in message


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.999])
def test_a_cut_plan_says_it_is_cut(cut: float) -> None:
    text, _ = _deep_compact()
    message = _error(text[: int(len(text) * cut)], 89)
    assert "truncated plan" in message and "byte offset" in message


def test_text_after_the_plan_is_refused() -> None:
    text = json.dumps(hand.parallel(), indent=2)
    message = _error(text + "\nnot json")
    assert "invalid plan JSON" in message and "not json"[:5] in message


def test_json_without_a_plan_key() -> None:
    assert "without a \"Plan\" key" in _error('[{"Planning Time": 1.0}]')
