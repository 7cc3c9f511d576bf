"""Capture the golden triage files of every lab scenario (run by hand, never by the tests).

    uv run python -m tests.golden.capture                  # every case
    uv run python -m tests.golden.capture --case NAME ...  # some of them
    uv run python -m tests.golden.capture --rejudge        # outputs again, from stored snapshots
    uv run python -m tests.golden.capture --list

Starts a throwaway cluster the way the test suite does (:class:`pgcrisis.embedded.
EmbeddedServer` with tests/conftest.py's settings), and for each case of
:mod:`tests.golden.cases`: sets its fault up as the scenario's test does, runs triage's
collection (:func:`pgcrisis.triage.run_triage`), checks that the snapshot survives its
encoding exactly and that its judgement names what the scenario is about, then writes the
snapshot and every output judged from it (:mod:`tests.golden.files`). A case whose server
lacks a piece it needs is skipped with the reason; a case that fails writes nothing.

``--rejudge`` needs no server: it judges the stored snapshots again and rewrites only the
outputs, for a change of the contract an issue names (the input stays the same, so the diff
of the goldens is exactly that change).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from typing import Any

import psycopg

from pgcrisis.checks.registry import CHECKS
from pgcrisis.dsn import Target
from pgcrisis.embedded import EmbeddedServer
from pgcrisis.errors import PgcrisisError, first_line
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.triage import run_triage
from tests.conftest import TEST_SETTINGS
from tests.golden import codec, files
from tests.golden.cases import BY_NAME, CASES, NOT_COVERED, Case, problems

#: the fresh database of a case that needs no pg_cron (pg_cron's is the server's ``app``)
DATABASE = "shop"
#: a snapshot file larger than this is said
LARGE = 2 * 1024 * 1024


class CaptureError(Exception):
    """A case that cannot be stored as a golden (what is wrong is the message)."""


def _difference(a: Any, b: Any, where: str = "snapshot") -> str | None:
    """Where two values first differ (``None``: equal)."""
    if a == b:
        return None
    if is_dataclass(a) and type(a) is type(b):
        for f in fields(a):
            found = _difference(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
            if found:
                return found
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _difference(x, y, f"{where}[{i}]")
            if found:
                return found
    return f"{where}: {a!r} became {b!r}"


@contextmanager
def _database(server: EmbeddedServer, case: Case) -> Iterator[str]:
    """The case's database, as new: a fresh ``shop``, or pg_cron's emptied of every table,
    view and job (as tests/conftest.py's ``cron_db`` clears jobs)."""
    with psycopg.connect(server.dsn_for("postgres"), autocommit=True) as conn:
        if "pg_stat_statements" not in server.unavailable:  # server-wide: from a clean slate
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("SELECT pg_stat_statements_reset()")
        if not case.cron:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'.encode())
            conn.execute(f'CREATE DATABASE "{DATABASE}"'.encode())
    if not case.cron:
        try:
            yield server.dsn_for(DATABASE)
        finally:
            with psycopg.connect(server.dsn_for("postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'.encode())
        return
    clear = ("CREATE EXTENSION IF NOT EXISTS pg_cron",
             "SELECT cron.unschedule(jobid) FROM cron.job",
             "TRUNCATE cron.job_run_details")
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        for statement in (*clear, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public"):
            conn.execute(statement.encode())
    try:
        yield server.dsn
    finally:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            for statement in clear:
                conn.execute(statement.encode())


def _collect(server: EmbeddedServer, case: Case) -> Snapshot:
    """The snapshot triage collects while the case's fault is there."""
    with _database(server, case) as dsn, case.lab(dsn):
        time.sleep(case.settle_s)
        return run_triage(Target(dsn, "golden"), sample_s=case.sample_s).snapshot


def capture(server: EmbeddedServer, case: Case) -> list[str]:
    """Capture ``case`` and write its files; their lines for the progress output."""
    live = _collect(server, case)
    text = codec.encode(live)
    stored = codec.decode(text)
    differs = _difference(live, stored)
    if differs:
        raise CaptureError(f"the snapshot does not survive its encoding: {differs}")
    report = files.judged(stored, case.thresholds)
    outputs = files.outputs(report)
    if outputs != files.outputs(files.judged(live, case.thresholds)):
        raise CaptureError("the stored snapshot is judged differently from the live one")
    wrong = problems(case, report)
    if wrong:
        found = ", ".join(sorted({f.code for f in report.findings})) or "nothing"
        raise CaptureError(f"{'; '.join(wrong)} (triage found: {found})")
    files.GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, content in {files.SNAPSHOT: text, **outputs}.items():
        path = files.path(case.name, suffix)
        path.write_bytes(content.encode())
        written.append(f"{path.relative_to(files.GOLDEN_DIR.parent.parent.parent)} "
                       f"({_size(len(content.encode()))})")
    codes = ", ".join(dict.fromkeys(f.code for f in report.findings)) or "no findings"
    return [*written, f"findings: {len(report.findings)} ({codes})"]


def rejudge(case: Case) -> list[str]:
    """Rewrite ``case``'s outputs from its stored snapshot; the lines of what changed."""
    report = files.judged(codec.decode(files.read(case.name, files.SNAPSHOT)), case.thresholds)
    wrong = problems(case, report)
    if wrong:
        raise CaptureError("; ".join(wrong))
    changed = []
    for suffix, content in files.outputs(report).items():
        path = files.path(case.name, suffix)
        if not path.exists() or files.read(case.name, suffix) != content:
            path.write_bytes(content.encode())
            changed.append(f"rewrote {path.name}")
    return changed or ["unchanged"]


def _size(n: int) -> str:
    return f"{n / 1024:.1f} kB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f} MB"


def _summary() -> list[str]:
    """Coverage and sizes over every stored golden (this run's and earlier ones)."""
    import json

    stored = files.stored_cases()
    shown: set[str] = set()
    for name in stored:
        document = json.loads(files.read(name, ".triage.json"))
        shown |= {f["code"] for f in document["findings"]}
    never = sorted(set(CHECKS) - shown)
    lines = [f"{len(stored)} golden cases stored in {files.GOLDEN_DIR}",
             f"check codes shown: {len(shown & set(CHECKS))} of {len(CHECKS)}",
             "check codes no golden shows: " + (", ".join(never) or "none")
             + (f" (declared in cases.NOT_COVERED: {', '.join(sorted(NOT_COVERED))})"
                if NOT_COVERED else "")]
    undeclared = sorted(set(stored) - set(BY_NAME))
    if undeclared:
        lines.append(f"stored but no longer declared (delete them?): {', '.join(undeclared)}")
    sizes = sorted(((files.path(n, files.SNAPSHOT).stat().st_size, n) for n in stored),
                   reverse=True)
    total = sum(p.stat().st_size for p in files.GOLDEN_DIR.iterdir())
    lines.append(f"total size {_size(total)}; largest snapshots: "
                 + ", ".join(f"{n} {_size(s)}" for s, n in sizes[:3]))
    lines += [f"LARGE: {n}.snapshot.json is {_size(s)}" for s, n in sizes if s > LARGE]
    return lines


def _rejudge_all(cases: Sequence[Case]) -> int:
    stored = set(files.stored_cases())
    failed = []
    for case in cases:
        if case.name not in stored:
            print(f"{case.name}: not captured yet (capture it without --rejudge)")
            failed.append(case.name)
            continue
        try:
            lines = rejudge(case)
        except CaptureError as exc:
            lines = [f"FAILED: {exc}"]
            failed.append(case.name)
        print(f"{case.name}: {'; '.join(lines)}")
    return 1 if failed else 0


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.golden.capture",
        description="Capture the golden triage files (tests/golden/triage/) from lab "
                    "scenarios on a throwaway PostgreSQL cluster. Run by hand after a change "
                    "that an issue names; the tests only read these files.")
    parser.add_argument("--case", action="append", metavar="NAME", choices=sorted(BY_NAME),
                        help="capture only this case (repeatable; default: every case)")
    parser.add_argument("--rejudge", action="store_true",
                        help="start no server: judge the stored snapshots again and rewrite "
                             "only the outputs (after a change of the contract an issue names)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--pg-server", choices=("auto", "system", "wheel"), default="auto",
                        help="which PostgreSQL to start (as tests/conftest.py's option)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    if args.list:
        for case in CASES:
            print(f"{case.name:36} {', '.join(sorted(case.codes)) or '(nothing above info)'}")
        return 0
    cases = [BY_NAME[name] for name in args.case] if args.case else list(CASES)
    if args.rejudge:
        return _rejudge_all(cases)
    failed: list[str] = []
    skipped: list[str] = []
    started = time.monotonic()
    print("starting a throwaway PostgreSQL cluster...", flush=True)
    with EmbeddedServer(settings=TEST_SETTINGS, backend=args.pg_server) as server:
        print(f"server: {server.description}", flush=True)
        lacking = {m.piece: m for m in server.missing}
        for i, case in enumerate(cases, 1):
            print(f"[{i}/{len(cases)}] {case.name}: {case.about}", flush=True)
            absent = [lacking[piece] for piece in case.needs if piece in lacking]
            if absent:
                print(f"    skipped: needs {absent[0].line()}", flush=True)
                skipped.append(case.name)
                continue
            t0 = time.monotonic()
            try:
                lines = capture(server, case)
            except (CaptureError, PgcrisisError, psycopg.Error) as exc:
                print(f"    FAILED: {first_line(exc)}", flush=True)
                failed.append(case.name)
                continue
            for line in lines:
                print(f"    {line}")
            print(f"    ({time.monotonic() - t0:.1f} s)", flush=True)
    captured = len(cases) - len(failed) - len(skipped)
    print(f"\ncaptured {captured}, skipped {len(skipped)}, failed {len(failed)} "
          f"in {time.monotonic() - started:.0f} s")
    for name, what in (("skipped", skipped), ("FAILED", failed)):
        if what:
            print(f"{name}: {', '.join(what)}")
    for line in _summary():
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
