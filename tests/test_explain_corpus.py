"""Golden analyses of real plans captured from the embedded server (tests/plans/corpus).

A missing golden fails; this test never writes one (a golden written by the test that reads
it would pass whatever the analysis says). After changing the analysis on purpose, or adding
a plan, write the goldens deliberately with ``uv run python -m tests.plans.regenerate_golden``
and read the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pgcrisis.plan import analyse_bytes
from tests.plans.regenerate_golden import (
    COMMAND,
    CORPUS,
    GOLDEN,
    analyse_corpus_plan,
    corpus_files,
    digest,
    golden_path,
)

FILES = corpus_files()


def test_every_golden_has_its_plan() -> None:
    """An empty corpus would parametrize the tests below away, and a plan deleted from it
    would take its test along: both are failures here, not silence."""
    assert FILES, f"no plans in {CORPUS}"
    orphans = sorted(p.name for p in GOLDEN.iterdir()
                     if p.name.removesuffix(".golden.json") not in FILES)
    assert orphans == [], f"goldens without a corpus plan: {orphans}"


@pytest.mark.parametrize("name", FILES)
def test_corpus_plan_matches_its_golden_analysis(name: str) -> None:
    golden = golden_path(name)
    if not golden.exists():
        pytest.fail(f"{name} has no golden analysis ({golden} is missing). If the plan is new, "
                    f"write it deliberately with `{COMMAND} {name}` and review it before "
                    "committing.")
    assert analyse_corpus_plan(name) == json.loads(golden.read_text(encoding="utf-8")), (
        f"the analysis of {name} changed; if on purpose: `{COMMAND} {name}`, then read the diff")


@pytest.mark.parametrize("stem", sorted({Path(f).stem for f in FILES}))
def test_text_and_json_plans_have_the_same_shape(stem: str) -> None:
    shapes = []
    for ext in ("json", "txt"):
        analysis = analyse_bytes((CORPUS / f"{stem}.{ext}").read_bytes())
        assert analysis.nodes is not None
        shapes.append([(n.id, n.parent_id, n.node_type, n.relation, n.relationship)
                       for n in analysis.nodes])
    assert shapes[0] == shapes[1]


@pytest.mark.parametrize("name", [f for f in FILES if f.endswith(".json")])
def test_compact_and_indented_json_analyse_the_same(name: str) -> None:
    text = (CORPUS / name).read_bytes()
    compacted = json.dumps(json.loads(text), separators=(",", ":")).encode()
    assert digest(analyse_bytes(text)) == digest(analyse_bytes(compacted))
