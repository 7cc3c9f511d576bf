"""What a piece of the server's log gives the store: errors counted per minute and group (role
and database among them), statements normalized by PostgreSQL's parser or, where it does not
parse, by regular expressions, into one written form; slow statements with a histogram whose
p95 is within its bucket's reach of the exact one; a plan counted once with its statement."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from pgcrisis.logs.counts import count, tally
from pgcrisis.logs.events import Event, Kind, classify
from pgcrisis.logs.record import LogRecord
from pgcrisis.logs.slow_counts import count_slow
from pgcrisis.logs.statements import normalize, rough
from pgcrisis.store import histogram

AT = datetime(2026, 1, 1, 9, 0, 5, tzinfo=UTC)


def slow_event(record: LogRecord) -> Event:
    """The event of a ``duration:`` line, as :func:`pgcrisis.logs.events.classify` makes it
    (a slow statement, or an auto_explain plan)."""
    event = classify(record)
    assert event is not None and event.kind in (Kind.SLOW, Kind.PLAN), record.message
    return event


def logged(message: str, *, at: datetime = AT, pid: int = 7, user: str = "web",
           database: str = "shop", application: str = "shop-web") -> LogRecord:
    return LogRecord(at, "LOG", "00000", message, application=application, pid=pid,
                     user=user, database=database)


@pytest.mark.parametrize("variants", [
    ("SELECT * FROM orders WHERE id = 1", "SELECT * FROM orders WHERE id = -2",
     "SELECT * FROM orders WHERE id = $1", "SELECT  *\n FROM orders\n WHERE id = 42 -- c"),
    ("SELECT 1/0 /* view='a' */", "SELECT 7/3"),
    ("SELECT * FROM t WHERE id IN (1, 2, 3) AND d > '2024-01-01'::date",
     "SELECT * FROM t WHERE id IN (4) AND d > '2025-02-02'::date",
     "SELECT * FROM t WHERE id IN ($1, $2) AND d > $3::date"),
])
def test_literal_variants_of_a_statement_are_one_group(variants: tuple[str, ...]) -> None:
    assert len({normalize(v) for v in variants}) == 1, [normalize(v) for v in variants]
    assert "$" not in normalize(variants[0]) and "?" in normalize(variants[0])


def test_the_parser_and_the_fallback_write_the_same_form() -> None:
    for text in ("SELECT * FROM t WHERE id IN (1, 2, 3) AND name = 'x' /* view='a' */",
                 "SELECT 1/0", "UPDATE t SET a = 'it''s', b = 2.5e3 WHERE id = $1;",
                 "SELECT $$body$$, E'x\\'y' FROM t"):
        assert normalize(text) == rough(text), text


def test_a_statement_that_does_not_parse_is_normalized_by_the_regex() -> None:
    assert normalize("SELEC * FROM t WHERE a = 'x' AND b IN (1,2)") == \
        "SELEC * FROM t WHERE a = ? AND b IN (?)"
    assert normalize("SELECT * FROM t WHERE a = 'cut off") == "SELECT * FROM t WHERE a = 'cut off"


def test_a_tag_on_a_later_line_of_a_multi_line_statement_is_found() -> None:
    statement = "SELECT id,\n       total\n  FROM orders\n WHERE id = 5\n/* view='order_page' */"
    [row] = count([LogRecord(AT, "ERROR", "57014", "canceling statement", statement)])
    assert (row.tag, row.statement) == ("order_page", "SELECT id, total FROM orders WHERE id = ?")


def test_errors_are_counted_per_role_and_database() -> None:
    def error(user: str, database: str, n: int) -> list[LogRecord]:
        return [LogRecord(AT + timedelta(seconds=i), "ERROR", "42P01",
                          f'relation "x{i}" does not exist', f"SELECT * FROM x0 WHERE a = {i}",
                          "shop-web", user=user, database=database) for i in range(n)]
    rows = count(error("web", "shop", 3) + error("report", "shop", 2) + error("web", "crm", 1)
                 + [logged("checkpoint starting: time")])
    got = {(r.role, r.database): (r.count, r.sample) for r in rows}
    assert got == {("web", "shop"): (3, 'relation "x2" does not exist'),
                   ("report", "shop"): (2, 'relation "x1" does not exist'),
                   ("web", "crm"): (1, 'relation "x0" does not exist')}
    assert {r.statement for r in rows} == {"SELECT * FROM x0 WHERE a = ?"}
    assert len({r.group for r in rows}) == 3


def _exact_p95(values: list[float]) -> float:
    """The nearest-rank 95th percentile: the smallest value with 95 % of them at or below."""
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_histograms_p95_is_within_its_bucket_of_the_exact_one(seed: int) -> None:
    rng = random.Random(seed)
    minutes = [[rng.lognormvariate(3.0, 1.5) + 0.05 for _ in range(rng.randint(1, 300))]
               for _ in range(20)]
    events = [slow_event(logged(f"duration: {ms:.3f} ms  statement: SELECT pg_sleep({ms})",
                                at=AT + timedelta(minutes=m)))
              for m, durations in enumerate(minutes) for ms in durations]
    rows = count_slow(events)
    assert len(rows) == 20 and {r.statement for r in rows} == {"SELECT pg_sleep(?)"}
    logged_ms = [float(f"{ms:.3f}") for durations in minutes for ms in durations]
    whole = histogram.merged(histogram.loads(histogram.dumps(r.histogram)) for r in rows)
    estimate = histogram.quantile(whole, 0.95, max(r.max_ms for r in rows))
    assert estimate is not None
    exact = _exact_p95(logged_ms)
    assert abs(estimate - exact) / exact <= math.sqrt(histogram.RATIO) - 1 + 1e-9
    assert sum(r.count for r in rows) == len(logged_ms)
    assert sum(r.total_ms for r in rows) == pytest.approx(sum(logged_ms))
    assert max(r.max_ms for r in rows) == max(logged_ms)


def test_a_plan_is_counted_once_with_the_statement_that_follows_it() -> None:
    plan = ("duration: 250.100 ms  plan:\nQuery Text: SELECT *\n  FROM orders WHERE id = 5 "
            "/* view='order_page' */\nSeq Scan on orders  (cost=0.00..35.50 rows=10 width=4) "
            "(actual time=0.010..250.000 rows=1 loops=1)\n  Filter: (id = 5)")
    events = [slow_event(logged(plan, pid=9)),
              slow_event(logged("duration: 0.5 ms  statement: SELECT 1", pid=8)),
              slow_event(logged("duration: 250.2 ms  statement: SELECT *\n  FROM orders "
                                "WHERE id = 5 /* view='order_page' */", pid=9)),
              # auto_explain alone: no statement of its process follows
              slow_event(logged(plan.replace("id = 5", "id = 6"), pid=10))]
    rows = {r.statement: r for r in count_slow(events)}
    order = rows["SELECT * FROM orders WHERE id = ?"]
    assert (order.count, order.tag, order.role, order.database) == (2, "order_page", "web", "shop")
    assert order.plan.startswith("Query Text: SELECT *") and "Seq Scan on orders" in order.plan
    assert order.total_ms == pytest.approx(250.2 + 250.1)
    assert rows["SELECT ?"].count == 1 and rows["SELECT ?"].plan == ""


def test_tally_counts_the_errors_of_records_and_the_slow_statements_they_show() -> None:
    records = [LogRecord(AT, "ERROR", "22012", "division by zero", "SELECT 1/0", user="web",
                         database="shop"),
               logged("duration: 12.3 ms  statement: SELECT 1")]
    counts = tally(records)
    assert [(r.sqlstate, r.role, r.database) for r in counts.errors] == [("22012", "web", "shop")]
    assert [(r.statement, r.count, r.total_ms) for r in counts.slow] == [("SELECT ?", 1, 12.3)]
