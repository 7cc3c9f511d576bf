"""Docs that cannot go stale: every code of the catalogue has a check (live, history or
log), a section in docs/checks.md and a row in the README; every threshold is documented."""

from __future__ import annotations

import dataclasses
import json
import re
from importlib import resources
from pathlib import Path

import pytest

import pgcrisis.triage  # noqa: F401  (registers every check family)
from pgcrisis.checks import catalogue  # noqa: F401
from pgcrisis.checks.registry import CHECKS
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.history.window import HISTORY_CHECKS, HISTORY_CODES
from pgcrisis.logs.findings import LOG_CHECKS, LOG_CODES

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
SCHEMA = json.loads(resources.files("pgcrisis").joinpath("schemas/triage.schema.json").read_text())
#: the catalogue of finding codes: the contract's table, mirrored in the shipped JSON Schema
CATALOGUE = tuple(SCHEMA["$defs"]["code"]["enum"])


def _section(code: str) -> str:
    match = re.search(rf"^### `{re.escape(code)}`\n(.*?)(?=^#{{2,3}} |\Z)", DOCS, re.M | re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize("code", CATALOGUE)
def test_every_code_has_a_registered_check(code: str) -> None:
    if code in HISTORY_CODES:  # judged over a recording's window, not a snapshot
        assert code in HISTORY_CHECKS, f"no history check makes {code}"
        return
    if code in LOG_CODES:  # read from the server's log (triage --log), not a snapshot
        assert code in LOG_CHECKS, f"nothing of the log makes {code}"
        return
    assert code in CHECKS, f"no check registered for {code}"


@pytest.mark.parametrize("code", CATALOGUE)
def test_every_code_is_documented(code: str) -> None:
    section = _section(code)
    assert section, f"docs/checks.md has no section ### `{code}`"
    for part in ("**Looks at**", "**Thresholds**", "**Remedy**", "**Peers**"):
        assert part in section, f"{code}: the section says nothing under {part}"


def test_no_check_outside_the_catalogue() -> None:
    assert set(CHECKS) <= set(CATALOGUE)


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Thresholds)])
def test_every_threshold_is_documented(name: str) -> None:
    assert f"`{name}`" in DOCS, f"threshold {name} is not in docs/checks.md"


def test_readme_lists_every_check_once_and_links_the_docs() -> None:
    table = README.split("### Checks", 1)[1].split("\n## ", 1)[0]
    assert "docs/checks.md" in table
    rows = [line for line in table.splitlines() if line.startswith("| [`")]
    listed = [re.match(r"\| \[`([a-z-]+)`\]", row).group(1) for row in rows]  # type: ignore[union-attr]
    assert sorted(listed) == sorted(CATALOGUE)
    for row in rows:
        assert "](docs/checks.md#" in row
