"""The log lab: real PostgreSQL logs of many shapes, made once per test session.

A throwaway server (the suite's :class:`~pgcrisis.embedded.EmbeddedServer`, the binaries
``--pg-server`` picks) logs to stderr, csvlog and jsonlog at once, so every stderr file has
twins holding the same records in formats whose fields can be counted independently
(:mod:`tests.loglab.counts`). It runs in *phases*, each writing ``<phase>.log/.csv/.json``:

``main``   prefix :data:`MAIN_PREFIX` (with ``%e``); every event of :mod:`.workload`: errors of
           several SQLSTATEs, slow multi-line tagged statements with auto_explain plans (text
           and JSON), a temp file, a checkpoint, a lock-wait chain, a deadlock (40P01),
           statement (57014) and idle-in-transaction (25P03) timeouts, a failed login (28P01),
           refused connections (53300), a backend killed with SIGKILL (crash and restart).
``rds``    Amazon RDS's prefix (no ``%e``); errors and slow statements.
``badger`` the prefix pgBadger documents (no ``%e``); errors and slow statements.
``fr``     ``lc_messages`` French, main prefix; only where the locale and the server's
           catalogue exist (else in :attr:`Lab.skipped` with the reason and the command).

Then :mod:`.transports` wraps ``main`` the way transports deliver it (files under
``wrapped/``): syslog with BSD, ISO 8601 and RFC 5424 headers (as PostgreSQL's syslog
destination chunks messages), Heroku logplex, Google Cloud Logging entries, CloudNativePG's
JSON records, and gzip/bzip2/xz/zstd compressions.

Use in a test module (the fixture starts the lab once per session)::

    from tests.loglab import Lab, lab_fixture  # noqa: F401  (the fixture ``lab``)

    def test_deadlocks(lab: Lab) -> None:
        main = lab.phases["main"]
        assert main.csv_counts().errors[("ERROR", "40P01")] >= main.made["40P01"]
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pgcrisis.embedded import EmbeddedServer
from pgcrisis.server_binaries import Choice
from tests.loglab import server as _server
from tests.loglab import transports as _transports
from tests.loglab.counts import Counts, csv_counts, english, json_counts
from tests.loglab.server import BADGER_PREFIX, MAIN_PREFIX, RDS_PREFIX, PhasePlan
from tests.loglab.workload import FAILING_TAGGED, SLOW_TAGGED, SLOW_TAGGED_JSON, Made, workload

__all__ = ["BADGER_PREFIX", "FAILING_TAGGED", "MAIN_PREFIX", "RDS_PREFIX", "SLOW_TAGGED",
           "SLOW_TAGGED_JSON", "Counts", "Lab", "Phase", "lab_fixture", "make_lab"]

#: the phases of a lab, the first one with every event
PHASES = (PhasePlan("main", MAIN_PREFIX, full=True), PhasePlan("rds", RDS_PREFIX),
          PhasePlan("badger", BADGER_PREFIX),
          PhasePlan("fr", MAIN_PREFIX, lc_messages=_server.OTHER_LOCALE))


@dataclass(frozen=True)
class Phase:
    """One phase's files (the same records in three formats) and what its workload caused."""

    name: str
    prefix: str
    lc_messages: str
    stderr: Path
    csv: Path
    json: Path
    made: Made
    severities: dict[str, str]   # the severity words of its language -> English

    def csv_counts(self) -> Counts:
        return csv_counts(self.csv, self.severities)

    def json_counts(self) -> Counts:
        return json_counts(self.json, self.severities)


@dataclass(frozen=True)
class Lab:
    """The lab's phases by name, the wrapped and compressed files by name (``syslog-bsd``,
    ``cnpg``, ``gz``...), and what was skipped (name -> reason)."""

    server: str
    major: int
    phases: dict[str, Phase]
    wrapped: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def make_lab(directory: Path, choice: Choice = "auto",
             phases: tuple[PhasePlan, ...] = PHASES, max_connections: int = 10) -> Lab:
    """Start the lab's server in ``directory``, run ``phases``, stop it; the files it wrote
    (under ``directory/logs``) and their wrapped forms (``directory/wrapped``)."""
    binaries = _server.lab_binaries(choice)
    skipped: dict[str, str] = {}
    planned = []
    for plan in phases:
        why = (_server.translation_missing(binaries) if plan.lc_messages != "C" else None)
        if why:
            skipped[plan.name] = why
        else:
            planned.append(plan)
    made: dict[str, Made] = {}
    # a directory of its own: the server's user (not root) may not reach pytest's tmp
    home = Path(tempfile.mkdtemp(prefix="pgcrisis-loglab-"))
    embedded = EmbeddedServer(directory=home, binaries=binaries,
                              settings=_server.settings(planned[0], binaries, max_connections))

    def run(server: EmbeddedServer, plan: PhasePlan) -> None:
        current = server.log_dir / f"{plan.name}.csv"
        made[plan.name] = workload(server, plan.full,
                                   lambda text: current.read_text(errors="replace").count(text))

    logs = directory / "logs"
    try:
        embedded.start()
        description = embedded.description
        _server.run_phases(embedded, planned, run, logs)
    finally:
        embedded.stop()
        shutil.rmtree(home, ignore_errors=True)
    built = {}
    for plan in planned:
        language = plan.lc_messages.split("_")[0] if plan.lc_messages != "C" else ""
        catalogue = _server.message_catalogue(binaries, language) if language else None
        built[plan.name] = Phase(plan.name, plan.prefix, plan.lc_messages,
                                 logs / f"{plan.name}.log", logs / f"{plan.name}.csv",
                                 logs / f"{plan.name}.json", made[plan.name], english(catalogue))
    first = built[planned[0].name]
    wrapped: dict[str, Path] = {}
    if first.prefix == MAIN_PREFIX:  # the transports' forms read the main prefix's lines
        wrapped = _transports.wrap_all(first.stderr, first.csv, directory / "wrapped", skipped)
    return Lab(description, binaries.major, built, wrapped, skipped)


@pytest.fixture(name="lab", scope="session")
def lab_fixture(tmp_path_factory: pytest.TempPathFactory,
                pytestconfig: pytest.Config) -> Iterator[Lab]:
    """The session's lab (made on first use, a few seconds; its files under pytest's tmp)."""
    yield make_lab(tmp_path_factory.mktemp("loglab"), pytestconfig.getoption("--pg-server"))
