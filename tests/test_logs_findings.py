"""The past diagnosed from the log alone: a real server does each real thing (a lock wait
chain, a deadlock, refused connections, a statement timeout, an idle-in-transaction timeout,
the lock table run out, temporary files, slow statements with view tags, auto_explain plans,
checkpoints forced by WAL, a backend killed with signal 9), writes its log in csvlog and
jsonlog, and the findings read from either name what happened; where live triage could see
it at that moment (the chain, the full slots), the log's finding names what live triage
named.

Translated logs (``lc_messages``): lines written from PostgreSQL's own French and German
catalogs are recognised as the English ones are.
"""

from __future__ import annotations

import gettext
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pgcrisis.logs.events import Kind, classify
from pgcrisis.logs.findings import findings_of
from pgcrisis.logs.record import LogRecord
from pgcrisis.model.findings import Finding, Severity
from tests.scenarios.log_events import Observed, observed

FORMATS = ("csvlog", "jsonlog")


@pytest.fixture(scope="module")
def seen() -> Observed:
    return observed()


def _findings(seen: Observed, fmt: str) -> tuple[Finding, ...]:
    records = seen.csv if fmt == "csvlog" else seen.json
    return findings_of([e for e in map(classify, records) if e is not None])


def _one(found: tuple[Finding, ...], code: str, **evidence: Any) -> Finding:
    matching = [f for f in found if f.code == code
                and all(f.evidence.get(k) == v for k, v in evidence.items())]
    assert len(matching) == 1, (code, evidence, [(f.code, f.title) for f in found])
    return matching[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_lock_chain_names_the_root_live_triage_named(seen: Observed, fmt: str) -> None:
    root, *waiters = seen.chain
    chain = _one(_findings(seen, fmt), "blocking-lock", root_pid=root)
    assert chain.objects[0].pid == root
    assert chain.evidence["chain"] == seen.chain  # root first: A <- B <- C
    assert chain.evidence["waiters"] == 2 and chain.evidence["waiter_pids"] == sorted(waiters)
    assert chain.evidence["max_wait_s"] >= 0.1  # logged after deadlock_timeout
    live = seen.live_chain.by_code("blocking-lock")
    assert [f.objects[0].pid for f in live] == [root]
    relations = [o.name for o in live[0].objects if o.kind == "relation"]
    assert relations == [f"public.{chain.evidence['relation']}"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_deadlock_gives_both_statements(seen: Observed, fmt: str) -> None:
    found = _one(_findings(seen, fmt), "deadlock")
    assert sorted(found.evidence["statements"]) == [
        "UPDATE accounts SET balance = 1 WHERE id = 2",
        "UPDATE accounts SET balance = 1 WHERE id = 3"]
    assert len(set(found.evidence["pids"])) == 2 and found.evidence["count"] == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_refused_connections_are_the_saturation_live_triage_saw(seen: Observed,
                                                                fmt: str) -> None:
    found = _one(_findings(seen, fmt), "connection-saturation")
    assert found.severity is Severity.CRITICAL
    assert (found.evidence["refused"], found.evidence["role"], found.evidence["database"],
            found.evidence["client_addr"]) == (seen.refused, "crowd", "app", "127.0.0.1")
    assert found.evidence["log"]["first"] <= found.evidence["log"]["last"]
    live = seen.live_full.by_code("connection-saturation")
    assert live and live[0].severity is Severity.CRITICAL


@pytest.mark.parametrize("fmt", FORMATS)
def test_cancels_idle_timeouts_and_the_lock_table(seen: Observed, fmt: str) -> None:
    found = _findings(seen, fmt)
    cancelled = _one(found, "statement-cancelled")
    assert (cancelled.evidence["reason"], cancelled.evidence["application"],
            cancelled.evidence["tag"]) == ("statement-timeout", "report-app", "slow_report")
    idle = _one(found, "idle-in-transaction")
    assert idle.evidence["application"] == "idle-app" and idle.evidence["count"] == 1
    hoarder = _one(found, "lock-hoarder")
    assert "CREATE TEMP TABLE" in hoarder.evidence["statement"]
    assert hoarder.severity is Severity.CRITICAL


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_killed_backend_is_one_crash_with_its_gap(seen: Observed, fmt: str) -> None:
    crash = _one(_findings(seen, fmt), "server-crash")  # pg_cron's exit at start is none
    assert crash.severity is Severity.CRITICAL
    assert (crash.evidence["pid"], crash.evidence["signal"]) == (seen.killed_pid, 9)
    assert 0 < crash.evidence["down_s"] < 60
    assert crash.evidence["log"]["last"] == crash.evidence["ready_at"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_checkpoints_temp_files_slow_statements_and_plans(seen: Observed, fmt: str) -> None:
    found = _findings(seen, fmt)
    assert _one(found, "checkpoint-too-frequent").evidence["min_interval_s"] < 3600
    sort = _one(found, "temp-files", statement="SELECT count(*) FROM (SELECT id FROM big "
                "ORDER BY v DESC, id OFFSET ?) sorted")
    assert sort.evidence["bytes"] > 64 * 1024
    sleeps = _one(found, "slow-query", statement="SELECT pg_sleep(?)")
    assert (sleeps.evidence["count"], sleeps.evidence["tags"]) == (3, ["orders_page"])
    assert sleeps.evidence["p95_ms"] >= 20
    view = _one(found, "slow-query", tag="orders_page")
    assert view.evidence["count"] == 3 and view.evidence["total_ms"] >= 60
    plans = {f.evidence["tag"]: f for f in found if f.code == "bad-plan"}
    assert set(plans) == {"customer_report", "json_view"}  # text and JSON auto_explain
    for plan in plans.values():
        assert plan.evidence["tips"] and "big" in plan.evidence["tips"][0]["title"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_finding_says_which_lines_it_was_read_from(seen: Observed, fmt: str) -> None:
    records = seen.csv if fmt == "csvlog" else seen.json
    starts = {(r.file, r.line): r for r in records}
    for finding in _findings(seen, fmt):
        where = finding.evidence["log"]
        first, last = where["lines"]
        assert Path(where["file"]).exists() and 0 < first <= last, finding.title
        assert (where["file"], first) in starts, finding.title
        assert where["records"] >= 1 and where["first"] <= where["last"]


# -- translated logs -------------------------------------------------------------------------

_SPEC = re.compile(r"%(?:(\d+)\$)?[-+ #0]*\d*(?:\.\d+)?(?:l|z)?([sduX])")


def _printf(template: str, *args: object) -> str:
    """``template`` filled as the server's C printf fills it (``%2$s`` included)."""
    counter = iter(range(len(args)))

    def one(m: re.Match[str]) -> str:
        n = int(m.group(1)) - 1 if m.group(1) else next(counter)
        return f"{args[n]:03d}" if m.group(0) == "%03d" else str(args[n])

    return _SPEC.sub(one, template)


def _catalog(lang: str) -> gettext.GNUTranslations:
    found = sorted(Path("/usr/share/locale").glob(f"{lang}/LC_MESSAGES/postgres-*.mo"))
    if not found:
        pytest.skip(f"no PostgreSQL {lang} catalog on this machine")
    with found[-1].open("rb") as fh:
        return gettext.GNUTranslations(fh)


def _record(message: str, severity: str = "LOG", sqlstate: str = "",
            **fields: Any) -> LogRecord:
    return LogRecord(datetime(2026, 12, 6, 9, 14, tzinfo=UTC), severity, sqlstate, message,
                     file="postgresql.log", line=1, last_line=1, **fields)


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_messages_in_french_and_german(lang: str) -> None:
    t = _catalog(lang)
    msgid = "process %d still waiting for %s on %s after %ld.%03d ms"
    assert t.gettext(msgid) != msgid  # the catalog translates it: not English read twice
    wait = _record(_printf(t.gettext(msgid), 123, "ShareLock", "transaction 456", 1000, 62),
                   detail="Process holding the lock: 789. Wait queue: 123, 124.")
    event = classify(wait)
    assert event is not None and event.kind is Kind.LOCK_WAIT
    assert (event.pid, event.lock, event.duration_ms, event.holders, event.queue) == (
        123, "ShareLock", 1000.062, (789,), (123, 124))
    cases = {
        _printf(t.gettext("duration: %s ms  statement: %s"), "1234.567", "SELECT 1"):
            (Kind.SLOW, "duration_ms", 1234.567),
        _printf(t.ngettext("checkpoints are occurring too frequently (%d second apart)",
                           "checkpoints are occurring too frequently (%d seconds apart)", 7),
                7): (Kind.CHECKPOINT_FREQUENT, "seconds", 7.0),
        _printf(t.gettext("%s (PID %d) was terminated by signal %d: %s"),
                t.gettext("server process"), 4242, 9, "Killed"): (Kind.CRASH, "pid", 4242),
        t.gettext("database system is ready to accept connections"):
            (Kind.RESTART, "reason", "ready"),
        _printf(t.gettext("temporary file: path \"%s\", size %lu"),
                "base/pgsql_tmp/pgsql_tmp1.0", 8192): (Kind.TEMP_FILE, "bytes", 8192),
    }
    for message, (kind, name, value) in cases.items():
        event = classify(_record(message))
        assert event is not None and event.kind is kind, message
        assert getattr(event, name) == value, message
    refused = classify(LogRecord(datetime(2026, 12, 6, tzinfo=UTC), "FATAL", "",
                                 t.gettext("sorry, too many clients already")))
    assert refused is not None and refused.kind is Kind.REFUSED  # stderr without %e


def test_the_message_table_knows_every_language_of_the_catalogs() -> None:
    from pgcrisis.logs.messages import languages

    shipped = {p.parent.parent.name for p in Path("/usr/share/locale").glob(
        "*/LC_MESSAGES/postgres-*.mo")}
    assert "en" in languages() and shipped <= set(languages())


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_wraparound_vacuums_in_french_and_german(lang: str) -> None:
    """No test can bring a table near wraparound in seconds: the lines are the server's own
    catalog's, filled as autovacuum fills them (the report goes on over more lines)."""
    t = _catalog(lang)
    vacuum = _printf(t.gettext("automatic vacuum to prevent wraparound of table \"%s.%s.%s\": "
                               "index scans: %d\n"), "app", "public", "orders", 1)
    vacuum += "pages: 0 removed, 443 remain, 443 scanned (100.00% of total)\n"
    warning = _printf(t.gettext("database \"%s\" must be vacuumed within %u transactions"),
                      "app", 9_000_000)
    events = [classify(_record(vacuum)), classify(_record(warning, "WARNING", "01000"))]
    found = findings_of([e for e in events if e is not None])
    by_severity = {f.severity: f for f in found if f.code == "wraparound-risk"}
    assert by_severity[Severity.WARNING].evidence["relation"] == "public.orders"
    assert by_severity[Severity.CRITICAL].evidence["database"] == "app"
