"""Benchmark: how fast each log transport's wrapper is removed (:mod:`pgcrisis.logs.wrappers`),
beside plain reading of the same server lines with no wrapper (the baseline:
``sources.Input.lines()`` of a file holding just the payload).

For each wrapper a realistic file of ``--size`` bytes is generated once under ``--cache``
(with the payload file it must unwrap to, checked before the timing): syslog with BSD
headers and ``[seq-n]`` tags (multi-line and over-900-byte messages in several chunks, some
interleaved with another process's line, cron lines between), syslog RFC 5424, Heroku
logplex (router lines between), Cloud Logging ``textPayload`` entries (a message whole or a
line each), CloudNativePG records. About 50 backends log at once, a couple of thousand
lines a second. Target: every wrapper at 40 MB/s or more (pgBadger, one job, reads 30-60
MB/s here), syslog and logplex at 300,000 lines/s or more.

    uv run python bench/wrappers.py [--size 100M] [--runs 3] [--cache DIR] [--only syslog-bsd]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

from pgcrisis.logs.record import Line
from pgcrisis.logs.sources import Input
from pgcrisis.logs.wrappers import recognise

TARGET_MBS = 40.0
TARGET_LINES = 300_000
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TABLES = ("orders", "order_lines", "customers", "products", "stock", "payments", "events")
CRON = "Dec  6 08:00:{s:02d} db1 CRON[999]: (root) CMD (run-parts /etc/cron.hourly)"
ROUTER = ("{ts} heroku[router]: at=info method=GET path=\"/api/orders\" host=shop.example"
          " fwd=\"10.1.2.3\" dyno=web.1 connect=0ms service=12ms status=200")
#: a message: (pid, seconds since the start, microseconds, its lines as the server wrote them)
Message = tuple[int, int, int, list[str]]


def messages(rng: random.Random) -> Iterator[Message]:
    """Server messages as 50 busy backends write them, ~2,000 a second: mostly one line
    (durations, connections), some with a STATEMENT or DETAIL line, a few multi-line
    statements (a tab before each continuation line) and a few lines over 900 bytes."""
    pids = [rng.randrange(1000, 400_000) for _ in range(50)]
    k = 0
    while True:
        k += 1
        pid = rng.choice(pids)
        pre = f"user=app,db=shop,app=web,client=10.0.{pid % 250}.{pid % 7} "
        table = rng.choice(TABLES)
        roll = rng.random()
        key = rng.randrange(1, 10_000_000)
        if roll < 0.80:
            lines = [f"{pre}LOG:  duration: {rng.random() * 50:.3f} ms  statement: SELECT *"
                     f" FROM {table} WHERE id = {key}"]
        elif roll < 0.90:
            lines = [f"{pre}LOG:  connection authorized: user=app database=shop"
                     f" application_name=web SSL enabled (protocol=TLSv1.3)"]
        elif roll < 0.97:
            lines = [f"{pre}ERROR:  duplicate key value violates unique constraint"
                     f" \"{table}_pkey\"",
                     f"{pre}DETAIL:  Key (id)=({key}) already exists.",
                     f"{pre}STATEMENT:  INSERT INTO {table} (id, note) VALUES ({key}, 'x')"]
        elif roll < 0.995:
            lines = [f"{pre}LOG:  duration: {rng.random() * 900:.3f} ms  statement: SELECT o.id,",
                     "\t       sum(l.amount) AS total",
                     f"\t  FROM {table} o JOIN order_lines l ON l.order_id = o.id",
                     f"\t WHERE o.customer_id = {key} GROUP BY o.id"]
        else:
            values = ", ".join(str(rng.randrange(10**6)) for _ in range(180))
            lines = [f"{pre}LOG:  duration: {rng.random() * 90:.3f} ms  statement: SELECT *"
                     f" FROM {table} WHERE id IN ({values})"]
        yield pid, k // 2000, rng.randrange(10**6), lines


def chunks(message: str, limit: int = 900) -> list[str]:
    """The chunks ``write_syslog`` (elog.c) sends: cut at each newline, a longer line at its
    last space before ``limit`` bytes (ASCII payloads here)."""
    out: list[str] = []
    for line in message.split("\n"):
        rest = line
        while len(rest) > limit:
            cut = rest.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            out.append(rest[:cut])
            rest = rest[cut:]
        if rest:
            out.append(rest)
    return out


def _iso(second: int, micro: int) -> str:
    return f"2026-12-06T{8 + second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}" \
           f".{micro:06d}+00:00"


def _syslog(header: Callable[[int, int, int], str], other: Callable[[int], str]) -> Callable[
        [random.Random], Iterator[tuple[list[str], list[str]]]]:
    """A syslog-like transport: ``header(pid, second, micro)`` before each ``[seq-n]`` chunk,
    ``other(second)`` another program's line now and then."""
    def generate(rng: random.Random) -> Iterator[tuple[list[str], list[str]]]:
        seqs: dict[int, int] = {}
        held: list[str] = []  # a message's later chunks, after another process's first
        held_pid = 0
        for pid, second, micro, lines in messages(rng):
            seqs[pid] = seq = seqs.get(pid, 0) + 1
            head = header(pid, second, micro)
            wrapped = [f"{head}[{seq}-{n}] {c}"
                       for n, c in enumerate(chunks("\n".join(lines)), 1)]
            if len(wrapped) > 1 and not held and rng.random() < 0.3:
                held, held_pid = wrapped[1:], pid
                yield wrapped[:1], lines
                continue
            if held and held_pid == pid:  # a process's chunks are never out of order
                yield held, []
                held = []
            if held:  # this message began after the held one: its lines come after
                wrapped, held = wrapped[:1] + held + wrapped[1:], []
            if rng.random() < 0.01:
                wrapped.append(other(second))
            yield wrapped, lines
    return generate


def _cloud(rng: random.Random) -> Iterator[tuple[list[str], list[str]]]:
    """Cloud SQL's entries: a message whole in ``textPayload``, or a line each (an agent)."""
    for k, (pid, second, micro, lines) in enumerate(messages(rng)):
        ts = _iso(second, micro).replace("+00:00", "Z")
        texts = [f"{ts[:10]} {ts[11:23]} UTC [{pid}]: {line}" if not line.startswith("\t")
                 else line for line in lines]
        payloads = ["\n".join(texts) + "\n"] if k % 2 else texts
        wrapped = [json.dumps({
            "insertId": f"s{k}-{i}", "textPayload": p, "severity": "INFO", "timestamp": ts,
            "logName": "projects/shop/logs/cloudsql.googleapis.com%2Fpostgres.log",
            "resource": {"type": "cloudsql_database",
                         "labels": {"database_id": "shop:db1", "region": "europe-west1"}},
            "receiveTimestamp": ts}) for i, p in enumerate(payloads)]
        yield wrapped, texts


def _cnpg(rng: random.Random) -> Iterator[tuple[list[str], list[str]]]:
    """CloudNativePG's records: csvlog's fields in ``record``; the payload is the record."""
    for k, (pid, second, micro, lines) in enumerate(messages(rng)):
        ts = _iso(second, micro).replace("+00:00", "Z")
        record = {"log_time": f"{ts[:10]} {ts[11:23]} UTC", "user_name": "app",
                  "database_name": "shop", "process_id": str(pid),
                  "connection_from": "10.0.0.5:5432", "session_id": f"6751b2c1.{pid:x}",
                  "session_line_num": str(k), "command_tag": "SELECT",
                  "session_start_time": "2026-12-06 08:00:00 UTC",
                  "virtual_transaction_id": f"3/{k}", "transaction_id": "0",
                  "error_severity": "LOG", "sql_state_code": "00000",
                  "message": "\n".join(lines),
                  "application_name": "web", "backend_type": "client backend",
                  "query_id": "0"}
        wrapped = [json.dumps({"level": "info", "ts": ts, "logger": "postgres",
                               "msg": "record", "logging_pod": "cluster-example-1",
                               "record": record})]
        if k % 500 == 0:
            wrapped.append(json.dumps({"level": "info", "ts": ts, "logger": "instance-manager",
                                       "msg": "Checking for free disk space",
                                       "logging_pod": "cluster-example-1"}))
        yield wrapped, [json.dumps(record)]


KINDS: dict[str, Callable[[random.Random], Iterator[tuple[list[str], list[str]]]]] = {
    "syslog-bsd": _syslog(
        lambda pid, s, _: f"Dec  6 {8 + s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
                          f" db1 postgres[{pid}]: ",
        lambda s: CRON.format(s=s % 60)),
    "syslog-rfc5424": _syslog(
        lambda pid, s, us: f"<134>1 {_iso(s, us)} db1 postgres {pid} - - ",
        lambda s: f"<78>1 {_iso(s, 0)} db1 CRON 999 - - (root) CMD (run-parts)"),
    "logplex": _syslog(
        lambda pid, s, us: f"{_iso(s, us)} app[postgres.{pid}]: [DATABASE] ",
        lambda s: ROUTER.format(ts=_iso(s, 0))),
    "cloud-text": _cloud,
    "cnpg": _cnpg,
}


def generate(kind: str, size: int, folder: Path) -> tuple[Path, Path]:
    """The wrapped file of ``kind`` (about ``size`` bytes) and its payload, made once."""
    wrapped, payload = folder / f"{kind}-{size}.log", folder / f"{kind}-{size}.payload"
    if wrapped.exists() and payload.exists():
        return wrapped, payload
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    with wrapped.open("w") as out, payload.open("w") as plain:
        for lines, texts in KINDS[kind](random.Random(kind)):
            text = "".join(line + "\n" for line in lines)
            out.write(text)
            plain.write("".join(t + "\n" for t in texts))
            written += len(text)
            if written >= size:
                break
    return wrapped, payload


def _input(path: Path) -> Input:
    return Input(str(path), path, path.stat().st_size)


def unwrapped(path: Path) -> Iterator[Line]:
    """The server's lines the wrapper of ``path`` (recognised from its first lines) gives."""
    found = _input(path)
    head = found.lines()
    wrapper = recognise([t for _, t in islice(head, 50)])
    head.close()
    assert wrapper is not None, f"{path}: no wrapper recognised"
    return wrapper.unwrap(found.lines(), str(path))


def check(wrapped: Path, payload: Path) -> None:
    """The wrapper gives back the payload exactly (not timed)."""
    with payload.open() as expected:
        for n, (line, want) in enumerate(zip(unwrapped(wrapped), expected, strict=True), 1):
            got = line.text if line.fields is None else json.dumps(line.fields)
            if got != want.rstrip("\n"):
                raise SystemExit(f"{wrapped.name}: line {n} differs:\n  {got!r}\n  {want!r}")


def timed(count: Callable[[], int], runs: int) -> tuple[list[float], int]:
    """CPU seconds of each run of ``count`` (this machine is shared: CPU time hardly
    changes with the load, wall time does) and the lines it counted."""
    times, n = [], 0
    for _ in range(runs):
        t0 = time.process_time()
        n = count()
        times.append(time.process_time() - t0)
    return times, n


def _rate(amount: float, times: list[float], unit: float) -> str:
    rates = sorted(amount / t / unit for t in times)
    return f"{statistics.median(rates):7.1f} [{rates[0]:.1f}–{rates[-1]:.1f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="100M", help="bytes of each wrapped file (K, M, G)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pgcrisis-bench")
    ap.add_argument("--only", action="append", choices=list(KINDS), help="these wrappers")
    ap.add_argument("--no-check", action="store_true", help="skip the correctness check")
    args = ap.parse_args()
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(args.size[-1:].upper(), 1)
    size = int(float(args.size.rstrip("KMGkmg")) * scale)
    print(f"{'wrapper':<15} {'MB':>6} {'lines in':>10}  {'k lines/s':>22}  {'MB/s':>22}"
          f"  {'baseline k lines/s':>22}  {'baseline MB/s':>22}")
    for kind in args.only or KINDS:
        wrapped, payload = generate(kind, size, args.cache / "wrappers")
        if not args.no_check:
            check(wrapped, payload)
        times, _ = timed(lambda w=wrapped: sum(1 for _ in unwrapped(w)), args.runs)
        lines_in = sum(1 for _ in _input(wrapped).lines())
        base, base_lines = timed(lambda p=payload: sum(1 for _ in _input(p).lines()),
                                 args.runs)
        mb, base_mb = wrapped.stat().st_size / 1e6, payload.stat().st_size / 1e6
        rate = statistics.median(lines_in / t for t in times)
        verdict = "OK" if mb / statistics.median(times) >= TARGET_MBS and (
            not kind.startswith(("syslog", "logplex")) or rate >= TARGET_LINES) else "UNDER"
        print(f"{kind:<15} {mb:6.0f} {lines_in:10,}  {_rate(lines_in, times, 1e3):>22}"
              f"  {_rate(mb, times, 1):>22}  {_rate(base_lines, base, 1e3):>22}"
              f"  {_rate(base_mb, base, 1):>22}  {verdict}")
    print(f"CPU time, medians [min–max] of {args.runs} runs; target >= {TARGET_MBS:.0f} MB/s each,"
          f" >= {TARGET_LINES // 1000}k lines/s for syslog and logplex")


if __name__ == "__main__":
    main()
