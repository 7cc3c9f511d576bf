"""Regenerate tests/plans/inputs/: one plan per way people paste one (run by hand).

    uv run python -m tests.plans.capture_inputs

Every plan is the test server's own output: EXPLAIN run on the embedded PostgreSQL, its rows
printed by the real ``psql`` in every ``\\pset border`` / ``linestyle`` / ``-t`` / ``\\x``,
and a psql session (``psql -a``: comments, DDL, the echoed commands, two plans in a row).
What a person or another client adds is the only hand-made part, and each says so in
``MANIFEST``: pgAdmin's quoted lines, a terminal's wrapping at 80 columns, tabs, a prompt,
the summary lines as PostgreSQL 9.3 and 9.4-12 spelled them, JSON re-indented by a paste.

``expected.json`` holds the figures each file must produce. They are not pgcrisis's: the
execution time is the server's own ``Execution Time`` row (read before any decoration), the
node count and root node type come from the same statement's plan in FORMAT JSON.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.string import TextLoader

from pgcrisis.embedded import EmbeddedServer

HERE = Path(__file__).parent / "inputs"

SETUP = """
CREATE TABLE customers (id int PRIMARY KEY, name text, region int);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers,
                     status text, amount numeric);
INSERT INTO customers SELECT g, 'c' || g, g % 10 FROM generate_series(1, 2000) g;
INSERT INTO orders SELECT g, 1 + g % 2000, CASE WHEN g % 50 = 0 THEN 'new' ELSE 'done' END,
       g % 97 FROM generate_series(1, 60000) g;
ANALYZE;
"""
#: Seven nodes, a quoted identifier (pgAdmin doubles its quotes), an InitPlan.
QUERY = ('SELECT c.region, count(*), (SELECT max(amount) FROM orders) AS top'
         ' FROM orders "O" JOIN customers c ON c.id = "O".customer_id'
         " WHERE \"O\".status = 'new' GROUP BY c.region ORDER BY 2 DESC LIMIT 5")
SECOND = "SELECT count(*) FROM customers WHERE region = 3"
OPTIONS = "-c max_parallel_workers_per_gather=0 -c jit=off"

MANIFEST: dict[str, str] = {}


def _shape(conn: psycopg.Connection[Any], query: str) -> tuple[int, str]:
    """Node count and root node type, from the server's FORMAT JSON of the statement."""
    doc = json.loads(conn.execute(f"EXPLAIN (COSTS OFF, FORMAT JSON) {query}".encode())
                     .fetchone()[0])  # type: ignore[index]
    return json.dumps(doc).count('"Node Type"'), doc[0]["Plan"]["Node Type"]


def _executions(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"(?:Execution [Tt]ime|Total runtime): ([\d.]+) ms",
                                         text)]


def main() -> None:
    HERE.mkdir(exist_ok=True)
    expected: dict[str, dict[str, Any]] = {}
    with EmbeddedServer() as server, psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.adapters.register_loader("json", TextLoader)
        conn.execute(SETUP.encode())
        conn.execute(b"SET max_parallel_workers_per_gather = 0; SET jit = off")
        psql_bin = str(server.binaries.tool("psql")) if server.binaries else "psql"
        env = {**os.environ, "PGOPTIONS": OPTIONS}

        def psql(*args: str, stdin: str | None = None) -> str:
            return subprocess.run([psql_bin, "-X", "-d", server.dsn, *args], input=stdin,
                                  capture_output=True, text=True, check=True, env=env).stdout

        nodes, root = _shape(conn, QUERY)
        nodes2, _ = _shape(conn, SECOND)

        def rows_of(options: str, query: str = QUERY) -> list[str]:
            return [r[0] for r in conn.execute(f"EXPLAIN ({options}) {query}".encode())]

        def keep(name: str, text: str, how: str, **figures: Any) -> None:
            (HERE / name).write_text(text, encoding="utf-8", newline="")
            MANIFEST[name] = how
            expected[name] = {"how": how, **figures}

        def printed(rows: list[str], *args: str) -> str:
            """``rows`` as psql prints a one-column result named QUERY PLAN."""
            conn.execute(b"DROP TABLE IF EXISTS plan_rows")
            conn.execute(b'CREATE TABLE plan_rows (n int, "QUERY PLAN" text)')
            with conn.cursor().copy(b"COPY plan_rows FROM STDIN") as copy:
                for n, row in enumerate(rows):
                    copy.write_row((n, row))
            return psql(*args, "-c", 'SELECT "QUERY PLAN" FROM plan_rows ORDER BY n')

        base = rows_of("ANALYZE, BUFFERS")
        figures = {"plans": 1, "nodes": nodes, "root": root, "execution_ms": _executions(
            "\n".join(base))[0]}
        plain = "\n".join(base) + "\n"
        keep("plain.txt", plain, "the server's rows, one per line", **figures)
        keep("psql-t.txt", printed(base, "-t"), "psql -t: no header, one leading space",
             **figures)
        for border in (0, 1, 2):
            for style in ("ascii", "old-ascii", "unicode"):
                keep(f"psql-border{border}-{style}.txt",
                     printed(base, "-P", f"border={border}", "-P", f"linestyle={style}"),
                     f"psql \\pset border {border}, linestyle {style}", **figures)
        keep("psql-expanded.txt", printed(base, "-x"), "psql \\x (one record per row)",
             **figures)
        quoted = "".join('"' + row.replace('"', '""') + '"\n' for row in ["QUERY PLAN", *base])
        keep("pgadmin-quoted.txt", quoted,
             "hand-made decoration: every line in double quotes, inner quotes doubled, as "
             "pgAdmin copies a result column", **figures)
        keep("dbeaver-quoted-crlf.txt", quoted.replace("\n", "\r\n"),
             "hand-made decoration: quoted lines with CRLF endings (a copy on Windows)",
             **figures)
        bordered = printed(base, "-P", "border=1")
        wrapped = "".join(_wrap(line, 80) for line in bordered.splitlines(keepends=True))
        keep("terminal-wrapped-80.txt", wrapped,
             "hand-made decoration: psql border 1 cut at 80 columns as a terminal wraps, "
             "trailing spaces of each cut piece trimmed", **figures)
        keep("tabs.txt", _tabs(plain, 4),
             "hand-made decoration: every run of 4 leading spaces turned into a tab", **figures)
        mixed = plain.splitlines(keepends=True)
        bad = next(i for i, line in enumerate(mixed) if "->  Hash Join" in line)
        mixed[bad] = "\t\t" + mixed[bad][8:]   # 14 spaces: two 4-column tabs and six spaces
        keep("tabs-mixed-ambiguous.txt", "".join(mixed),
             "hand-made decoration: the Hash Join line indented with two tabs and six spaces "
             "(a 4-column editor), every other line with spaces: at 8 columns a tab puts its "
             "properties and children elsewhere",
             error=f"line {bad + 2}")
        costs_off = rows_of("COSTS OFF")
        keep("costs-off.txt", printed(costs_off, "-P", "border=1"),
             "EXPLAIN (COSTS OFF) printed by psql", plans=1, nodes=nodes, root=root,
             execution_ms=None)
        analyze_costs_off = rows_of("ANALYZE, COSTS OFF")
        keep("analyze-costs-off.txt", "\n".join(analyze_costs_off) + "\n",
             "EXPLAIN (ANALYZE, COSTS OFF)", plans=1, nodes=nodes, root=root,
             execution_ms=_executions("\n".join(analyze_costs_off))[0])
        timing_off = rows_of("ANALYZE, TIMING OFF")
        keep("timing-off.txt", "\n".join(timing_off) + "\n", "EXPLAIN (ANALYZE, TIMING OFF)",
             plans=1, nodes=nodes, root=root,
             execution_ms=_executions("\n".join(timing_off))[0])
        keep("total-runtime-9.3.txt", _old_summary(base, "9.3"),
             "hand-made respelling: the summary as 9.0-9.3 printed it (Total runtime:, no "
             "planning lines)", **figures)
        keep("execution-time-9.4.txt", _old_summary(base, "9.4"),
             "hand-made respelling: the summary as 9.4-12 printed it (Execution time:, "
             "Planning time:)", **figures)

        session = HERE / "session.sql"
        session.write_text(
            "-- the slow report, as run on the test server\n"
            "CREATE TEMP TABLE seen (id int);\n"
            f"EXPLAIN (ANALYZE, BUFFERS) {QUERY};\n"
            f"EXPLAIN (ANALYZE) {SECOND};\n", encoding="utf-8")
        transcript = psql("-a", "-f", str(session))
        session.unlink()
        times = _executions(transcript)
        transcript = transcript.replace("EXPLAIN (ANALYZE, BUFFERS)", "app=# EXPLAIN (ANALYZE, "
                                        "BUFFERS)", 1)
        keep("psql-session-two-plans.txt", "# pasted from a terminal\n" + transcript,
             "psql -a -f (comments, DDL and the echoed commands around two plans); the "
             "'app=# ' prompt and the '#' line are hand-made",
             plans=2, nodes=nodes + nodes2, root=root, execution_ms=sum(times))

        doc = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {QUERY}".encode()
                           ).fetchone()[0]  # type: ignore[index]
        json_figures = {"plans": 1, "nodes": nodes, "root": root,
                        "execution_ms": json.loads(doc)[0]["Execution Time"]}
        keep("json-indented-4.json", "".join("    " + line for line in
                                             (doc + "\n").splitlines(keepends=True)),
             "hand-made decoration: the server's JSON with 4 more spaces on every line",
             **json_figures)
        runtime = doc.replace('"Execution Time"', '"Total Runtime"')
        keep("json-total-runtime-9.3.json", runtime + "\n",
             "hand-made respelling: the server's JSON with the 9.0-9.3 key \"Total Runtime\"",
             **json_figures)
        json_session = HERE / "session.sql"
        json_session.write_text(f"EXPLAIN (ANALYZE, FORMAT JSON) {SECOND};\n",
                                encoding="utf-8")
        printed_json = psql("-e", "-f", str(json_session))
        json_session.unlink()
        keep("json-psql-prompt.txt", "app=# " + printed_json + "app=# \\q\n",
             "psql -e -f of FORMAT JSON; the 'app=# ' prompts before and after are hand-made",
             plans=1, nodes=nodes2, root=_shape(conn, SECOND)[1],
             execution_ms=float(re.findall(r'"Execution Time": ([\d.]+)', printed_json)[0]))
        json_rows = [r[0] for r in conn.execute(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {SECOND}".encode())]
        unicode_json = printed(json_rows, "-P", "border=2", "-P", "linestyle=unicode")
        keep("json-psql-border2-unicode.txt", unicode_json,
             "the server's JSON lines printed by psql with \\pset border 2, linestyle unicode",
             plans=1, nodes=nodes2, root=_shape(conn, SECOND)[1],
             execution_ms=json.loads(json_rows[0])[0]["Execution Time"])

    (HERE / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    for name, how in MANIFEST.items():
        print(f"{name}: {how}")


def _wrap(line: str, width: int) -> str:
    body = line.rstrip("\n")
    if len(body) <= width:
        return line
    pieces = [body[i:i + width] for i in range(0, len(body), width)]
    return "\n".join(piece.rstrip() for piece in pieces) + "\n"


def _tabs(text: str, width: int) -> str:
    def indent(match: re.Match[str]) -> str:
        spaces = len(match.group(0))
        return "\t" * (spaces // width) + " " * (spaces % width)
    return re.sub(r"(?m)^ +", indent, text)


def _old_summary(rows: list[str], version: str) -> str:
    """The summary lines as an older server printed them (no ``Planning:`` block)."""
    out: list[str] = []
    in_planning = False
    for row in rows:
        if row == "Planning:":
            in_planning = True
            continue
        if in_planning and row.startswith(" "):
            continue
        in_planning = False
        if version == "9.3":
            if not row.startswith("Planning Time:"):
                out.append(row.replace("Execution Time:", "Total runtime:"))
        else:
            out.append(row.replace("Execution Time:", "Execution time:").replace(
                "Planning Time:", "Planning time:"))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
