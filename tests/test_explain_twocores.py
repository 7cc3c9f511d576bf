"""Big JSON plans on two cores (``_twocores``): the node scanner in a forked child, the
analysis in the parent. The analysis must be the one a single process makes, for every kind
of event the scanner can send; what the child finds wrong is said in the parent, in the
same words; progress reaches the parent's bar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pgcrisis.errors import InputError
from pgcrisis.plan import PlanAnalysis, _twocores, analyse_bytes, from_stream
from pgcrisis.plan import analyse as analyse_source
from tests.helpers import skip_without
from tests.plans import hand
from tests.plans.pgformat import dumps
from tests.test_explain_versions import PG12_GATHER


@pytest.fixture(autouse=True)
def _two_cores() -> None:
    """Skipped without ``fork`` and a second core; under CI, failed."""
    if not _twocores.available():
        skip_without("two-cores", "needs fork and a second core")


def _both(data: bytes) -> tuple[PlanAnalysis, PlanAnalysis]:
    one = analyse_bytes(data, name="plan.json", parser="nodes", processes=1)
    two = analyse_bytes(data, name="plan.json", parser="nodes", processes=2)
    return one, two


def _digest(analysis: PlanAnalysis) -> Any:
    return (analysis.summary, analysis.nodes, analysis.hot_nodes, analysis.tips,
            analysis.notes, analysis.triggers)


def _big_append(members: int) -> list[dict[str, Any]]:
    scans = [hand.node("Seq Scan", 0.1 + i % 7, rows=10, plan_rows=10_000, **{
        "Parent Relationship": "Member", "Relation Name": f"t{i}", "Alias": f"t{i}",
        "Filter": "(a > 1)", "Rows Removed by Filter": 90_000, "Shared Hit Blocks": 900})
        for i in range(members)]
    return hand.statement(hand.node("Append", 5000.0, children=scans), 5001.0)


@pytest.mark.parametrize("layout", ["indented", "compact", "sorted-keys"])
def test_every_event_replays_to_the_same_analysis(layout: str) -> None:
    """Typed nodes, nodes from the exact path (per-worker JIT), keys after "Plans",
    InitPlan references, CTEs, triggers, two statements: the same analysis either way."""
    doc = (_big_append(3000) + hand.loops_initplan_subplan_cte() + hand.parallel()
           + json.loads(PG12_GATHER))
    data = {"indented": lambda: dumps(doc),
            "compact": lambda: json.dumps(doc, separators=(",", ":")),
            "sorted-keys": lambda: json.dumps(doc, indent=1, sort_keys=True)}[layout]()
    one, two = _both(data.encode())
    assert _digest(two) == _digest(one)
    assert two.summary.plans == 4 and two.summary.nodes == 3001 + 9 + 4 + 2
    assert two.triggers and two.summary.jit_split == "measured"


def test_a_corrupt_byte_is_named_in_the_same_words() -> None:
    text = json.dumps(_big_append(2000), separators=(",", ":"))
    at = text.index('"Actual Rows"', len(text) * 3 // 4)
    comma = text.rindex(",", 0, at)
    broken = (text[:comma] + ";" + text[comma + 1:]).encode()
    messages = []
    for processes in (1, 2):
        with pytest.raises(InputError) as caught:
            analyse_bytes(broken, name="plan.json", parser="nodes", processes=processes)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert f"byte offset {comma:,}" in messages[1]


def test_a_cut_plan_says_it_is_cut() -> None:
    text = json.dumps(_big_append(2000), separators=(",", ":"))
    with pytest.raises(InputError) as caught:
        analyse_bytes(text[: len(text) // 2].encode(), name="plan.json", parser="nodes",
                      processes=2)
    assert "truncated plan" in str(caught.value)


def test_progress_reaches_the_parent() -> None:
    import io

    data = dumps(_big_append(3000)).encode()
    source = from_stream(io.BytesIO(data), name="plan.json", size=len(data),
                         chunk_size=64 << 10)
    seen: list[int] = []
    source.progress = seen.append
    analysis = analyse_source(source, parser="nodes", processes=2)
    assert analysis.summary.nodes == 3001
    assert len(seen) > 10 and seen == sorted(seen) and seen[-1] == len(data)


def test_psql_rows_after_the_plan_are_noted() -> None:
    """psql's framing is read in the child: what it skipped still reaches the notes."""
    rows = "\n".join(f" {line}" for line in dumps(_big_append(500)).split("\n"))
    pasted = f"{'QUERY PLAN':^40}\n{'-' * 40}\n{rows}\n(1 row)\n\n".encode()
    one, two = _both(pasted + pasted)
    assert two.notes == one.notes
    assert any("more plan(s) followed" in note for note in two.notes)


def test_a_reader_that_dies_is_said_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    def die(*_: Any) -> None:
        os._exit(1)

    monkeypatch.setattr(_twocores, "_child", die)
    with pytest.raises(InputError) as caught:
        analyse_bytes(dumps(_big_append(10)).encode(), name="plan.json", parser="nodes",
                      processes=2)
    assert str(caught.value) == ("plan.json: the plan reader stopped before the end of "
                                 "the input")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_ctrl_c_stops_both_processes_in_one_line(tmp_path: Path) -> None:
    """SIGINT reaches the whole process group while both processes run: the parent says so
    in one line, exit 130, and nothing else is printed (no traceback from either)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "big.json"
    path.write_text(json.dumps(_big_append(120_000)))
    assert path.stat().st_size >= 32 << 20  # two processes
    proc = subprocess.Popen([sys.executable, "-m", "pgcrisis", "explain", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.monotonic() + 30
    while not children.read_text().split():  # the reader has forked: both are running
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)
    _, errors = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert errors.decode() == "pgcrisis: interrupted\n"
