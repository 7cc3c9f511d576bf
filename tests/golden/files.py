"""What a golden case is on disk, and how its outputs are made from its snapshot.

Each case ``<case>`` is five files in ``tests/golden/triage/``: the stored snapshot
(``.snapshot.json``) and what a user sees of its judgement: ``triage --format json``
(``.triage.json``), ``--format markdown`` (``.triage.md``), and the terminal report piped to
a file or another program, by default (``.triage.txt``) and with ``--all``
(``.triage.all.txt``). The outputs are made by the same functions the CLI calls, with a fixed,
fake target (``host=db.example dbname=<the snapshot's database>``) and a fixed console, so
they depend on nothing but the snapshot and the case's thresholds.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.dsn import Target
from pgcrisis.judge import TriageReport, judge
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.presentation import DEFAULT_PANELS, triage_json, triage_markdown, triage_terminal

GOLDEN_DIR = Path(__file__).resolve().parent / "triage"
SNAPSHOT = ".snapshot.json"
#: the user-visible outputs, by file suffix
OUTPUTS = (".triage.json", ".triage.md", ".triage.txt", ".triage.all.txt")


def target_for(snapshot: Snapshot) -> Target:
    """The fake target every golden is judged against: nothing of the capturing machine."""
    return Target(f"host=db.example dbname={snapshot.server.database}", "golden")


def judged(snapshot: Snapshot, thresholds: Mapping[str, Any] | None = None) -> TriageReport:
    """The report on ``snapshot``, as triage would give it (its checks, grouping, causes)."""
    return judge(target_for(snapshot), snapshot, Thresholds(**(thresholds or {})))


def _piped(report: TriageReport, panels: int | None) -> str:
    """The terminal report as ``pgcrisis triage | cat`` prints it: not a terminal, no colour,
    80 columns (what rich assumes for a pipe; piped lines are never wrapped or cut anyway)."""
    out = io.StringIO()
    console = Console(file=out, width=80, height=25, force_terminal=False,
                      force_interactive=False, force_jupyter=False, color_system=None,
                      legacy_windows=False)
    triage_terminal.render(report, console, panels=panels)
    return out.getvalue()


def outputs(report: TriageReport) -> dict[str, str]:
    """Every user-visible output of ``report``, by file suffix."""
    return {
        ".triage.json": triage_json.render(report),
        ".triage.md": triage_markdown.render(report),
        ".triage.txt": _piped(report, DEFAULT_PANELS),
        ".triage.all.txt": _piped(report, None),
    }


def path(case: str, suffix: str) -> Path:
    return GOLDEN_DIR / f"{case}{suffix}"


def stored_cases() -> list[str]:
    """The cases with a stored snapshot, by name."""
    return sorted(p.name.removesuffix(SNAPSHOT) for p in GOLDEN_DIR.glob(f"*{SNAPSHOT}"))


def read(case: str, suffix: str) -> str:
    """A stored file's exact text (bytes decoded, no newline translation)."""
    return path(case, suffix).read_bytes().decode()
