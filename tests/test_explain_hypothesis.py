"""Property tests for the plan parsers: layout never changes the analysis, and no input,
however cut or mangled, ends in anything but a clean InputError."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgcrisis.errors import InputError
from pgcrisis.plan import PlanAnalysis, analyse_bytes
from pgcrisis.plan.whitespace import Compactor
from tests.plans.pgformat import dumps

NODE_TYPES = ["Seq Scan", "Index Scan", "Hash Join", "Nested Loop", "Sort", "Hash", "Gather",
              "Aggregate", "CTE Scan", "Result", "Limit", "Append", "Bitmap Heap Scan"]
RELATIONSHIPS = ["Outer", "Inner", "Member", "SubPlan", "InitPlan"]
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
times = st.floats(min_value=0, max_value=1e4, allow_nan=False).map(lambda f: round(f, 3))
counts = st.integers(min_value=0, max_value=10**6)


@st.composite
def nodes(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    node: dict[str, Any] = {"Node Type": draw(st.sampled_from(NODE_TYPES))}
    relationship = draw(st.sampled_from(RELATIONSHIPS))
    node["Parent Relationship"] = relationship
    if relationship == "InitPlan":
        node["Subplan Name"] = draw(st.sampled_from(["InitPlan 1 (returns $0)", "CTE c",
                                                     "InitPlan 2"]))
    node.update({
        "Relation Name": draw(texts), "Alias": draw(texts), "Plan Rows": draw(counts),
        "Total Cost": draw(times), "Actual Total Time": draw(times),
        "Actual Rows": draw(counts), "Actual Loops": draw(st.integers(0, 5000)),
        "Output": draw(st.lists(texts, max_size=3)), "Filter": draw(texts),
        "Rows Removed by Filter": draw(counts), "Shared Hit Blocks": draw(counts),
        "Shared Read Blocks": draw(counts),
    })
    if node["Node Type"] == "Gather":
        node["Workers Launched"] = draw(st.integers(0, 4))
    if node["Node Type"] == "Sort":
        node["Sort Space Type"] = draw(st.sampled_from(["Disk", "Memory"]))
        node["Sort Space Used"] = draw(counts)
    if depth < 4:
        children = draw(st.lists(nodes(depth + 1), max_size=3))
        if children:
            node["Plans"] = children
    return node


plans = st.builds(lambda root, execution: [{"Plan": root, "Planning Time": 0.1,
                                            "Execution Time": execution}], nodes(), times)


def _digest(analysis: PlanAnalysis) -> Any:
    return (analysis.summary, analysis.nodes, analysis.tips)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans)
def test_every_layout_gives_the_same_analysis(doc: list[dict[str, Any]]) -> None:
    indented = dumps(doc).encode()
    ours = b"".join(Compactor().chunks([indented]))
    assert json.loads(ours) == doc
    jq_like = json.dumps(doc, separators=(",", ":")).encode()
    expected = _digest(analyse_bytes(indented, parser="strict"))
    assert _digest(analyse_bytes(indented, parser="nodes", chunk_size=89)) == expected
    assert _digest(analyse_bytes(ours)) == expected
    assert _digest(analyse_bytes(jq_like)) == expected
    assert _digest(analyse_bytes(jq_like, parser="nodes", chunk_size=97)) == expected
    pretty = json.dumps(doc, indent=3).encode()
    assert _digest(analyse_bytes(pretty, parser="nodes")) == expected


@settings(max_examples=40, deadline=None)
@given(plans, st.integers(min_value=1, max_value=64))
def test_compaction_in_small_chunks_is_the_same(doc: list[dict[str, Any]], size: int) -> None:
    text = json.dumps(doc, separators=(",", ":")).encode()
    pieces = []
    start = 0
    while start < len(text):  # cut anywhere except right after a backslash (as Input does)
        end = min(len(text), start + size)
        while end < len(text) and text[end - 1] == 0x5C:
            end += 1
        pieces.append(text[start:end])
        start = end
    assert b"".join(Compactor().chunks(pieces)) == text


@settings(max_examples=80, deadline=None)
@given(plans, st.floats(min_value=0.0, max_value=0.999), st.booleans(),
       st.sampled_from([None, "nodes", "strict"]))
def test_truncation_never_crashes(doc: list[dict[str, Any]], where: float, compact: bool,
                                  parser: str | None) -> None:
    text = (json.dumps(doc, separators=(",", ":")) if compact else dumps(doc)).encode()
    cut = text[: int(len(text) * where)]
    try:
        analyse_bytes(cut, parser=parser)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:  # a cut can only succeed if it left a complete document
        assert cut.rstrip().endswith((b"]", b"}"))


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    try:
        analyse_bytes(data)
    except InputError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=40, deadline=None)
@given(plans, st.integers(min_value=0, max_value=10**9), st.sampled_from([None, "nodes"]))
def test_a_flipped_byte_never_crashes(doc: list[dict[str, Any]], seed: int,
                                      parser: str | None) -> None:
    text = bytearray(dumps(doc).encode())
    position = seed % len(text)
    text[position] = (text[position] + 1 + seed % 200) % 256
    try:
        analyse_bytes(bytes(text), parser=parser)
    except InputError as exc:
        assert "\n" not in str(exc)
