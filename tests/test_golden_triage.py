"""The triage contract, frozen: each golden case's stored snapshot, judged again, gives the
stored JSON, Markdown and piped terminal text, byte for byte (tests/golden/README.md).

No server is needed: checks are pure functions of a snapshot. These tests only read the
golden files; ``uv run python -m tests.golden.capture`` writes them.
"""

from __future__ import annotations

import difflib
import json

import jsonschema
import pytest

from pgcrisis.checks.registry import CHECKS
from tests.golden import codec, files
from tests.golden.cases import BY_NAME, NOT_COVERED, problems
from tests.helpers import TRIAGE_SCHEMA

STORED = files.stored_cases()
REJUDGE = "uv run python -m tests.golden.capture --rejudge --case {case}"


def _diff(case: str, suffix: str, stored: str, now: str) -> str:
    lines = list(difflib.unified_diff(
        stored.splitlines(keepends=True), now.splitlines(keepends=True),
        fromfile=f"tests/golden/triage/{case}{suffix} (stored)", tofile="judged now"))
    shown = "".join(lines[:120])
    return shown + (f"... {len(lines) - 120} more diff lines\n" if len(lines) > 120 else "")


@pytest.mark.parametrize("case", STORED, ids=[f"golden:{c}" for c in STORED])
def test_stored_snapshot_judged_again_gives_the_stored_outputs(case: str) -> None:
    declared = BY_NAME.get(case)
    assert declared is not None, f"{case} is stored but not declared in tests/golden/cases.py"
    text = files.read(case, files.SNAPSHOT)
    snapshot = codec.decode(text)
    assert codec.decode(codec.encode(snapshot)) == snapshot, "the snapshot does not round-trip"
    assert codec.unread(text) == [], (
        "the model no longer reads these stored values (a field renamed or removed): carry them "
        "over to the new field in the stored snapshot, so that the judgement can stay the same "
        "(tests/golden/README.md)")

    report = files.judged(snapshot, declared.thresholds)
    outputs = files.outputs(report)
    jsonschema.validate(json.loads(outputs[".triage.json"]), TRIAGE_SCHEMA)
    assert problems(declared, report) == []

    diffs = [_diff(case, suffix, stored, now) for suffix, now in outputs.items()
             if (stored := files.read(case, suffix)) != now]
    if diffs:
        pytest.fail(f"{case}: what a user sees changed for the same server.\n"
                    + "\n".join(diffs)
                    + "\nOnly if an issue names this change: "
                    + REJUDGE.format(case=case), pytrace=False)


def test_every_declared_case_is_stored() -> None:
    missing = sorted(set(BY_NAME) - set(STORED))
    assert missing == [], (
        f"declared in tests/golden/cases.py but not captured: {missing} "
        "(uv run python -m tests.golden.capture)")
    incomplete = [f"{case}{suffix}" for case in STORED for suffix in files.OUTPUTS
                  if not files.path(case, suffix).exists()]
    assert incomplete == []


def test_the_goldens_show_every_check() -> None:
    shown = {finding["code"] for case in STORED
             for finding in json.loads(files.read(case, ".triage.json"))["findings"]}
    assert sorted(set(CHECKS) - shown - NOT_COVERED) == [], (
        "no golden case shows these checks: add a case to tests/golden/cases.py "
        "(or name the code in NOT_COVERED, with the reason)")
    assert sorted(NOT_COVERED & shown) == [], "shown now: take them out of NOT_COVERED"
