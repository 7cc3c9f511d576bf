"""The lab's main log as transports deliver it: through syslog (PostgreSQL's syslog
destination, then a daemon's BSD, ISO 8601 or RFC 5424 header), Heroku's logplex, Google
Cloud Logging entries, CloudNativePG's JSON records; and compressed.

The server's syslog destination sends each message's whole text (its prefixed lines: the
message, DETAIL, HINT, STATEMENT..., with their tab-led continuation lines) through
``write_syslog`` (``src/backend/utils/error/elog.c``), which numbers messages per process
and splits them at newlines and at 900 bytes (at a space where it can), giving
``[seq-chunk] text`` pieces. That is done here on the real stderr file's messages, which
hold exactly that text: stderr writes the same buffer.
"""

from __future__ import annotations

import bz2
import gzip
import importlib
import json
import lzma
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from pgcrisis.logs.fields import CSV_FIELDS
from tests.loglab.counts import csv_rows

#: elog.c's PG_SYSLOG_LIMIT: the longest piece sent in one syslog() call
SYSLOG_LIMIT = 900
HOST = "db-lab-1"
#: a main-prefix line: its time, pid, and the severity after ``%e %q%u@%d %a``
MAIN_LINE = re.compile(r"(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC \[(?P<pid>\d+)\] "
                       r"\w{5} (?:\S*@\S* \S* )?(?P<severity>[A-Z]+):  ")
#: the lines a message continues with (each with its own prefix)
CONTINUATIONS = frozenset({"DETAIL", "HINT", "CONTEXT", "STATEMENT", "QUERY", "LOCATION"})
#: syslog's severities for PostgreSQL's (elog.c): LOG -> info, ERROR -> warning, ...
SYSLOG_LEVEL = {"DEBUG": 7, "LOG": 6, "INFO": 6, "NOTICE": 5, "WARNING": 5, "ERROR": 4,
                "FATAL": 3, "PANIC": 2}
CLOUD_SEVERITY = {"LOG": "INFO", "INFO": "INFO", "NOTICE": "NOTICE", "WARNING": "WARNING",
                  "ERROR": "ERROR", "FATAL": "CRITICAL", "PANIC": "ALERT"}


@dataclass(frozen=True)
class Message:
    """One message of a stderr log: its process, time, severity and whole text (its lines,
    newline-ended, as the server's buffer held them)."""

    pid: int
    time: datetime
    severity: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


def messages(stderr: Path) -> Iterator[Message]:
    """The messages of a stderr log written with the main prefix."""
    current: Message | None = None
    for line in stderr.read_text(encoding="utf-8").splitlines():
        found = MAIN_LINE.match(line)
        if found is None or found["severity"] in CONTINUATIONS:
            assert current is not None, f"a continuation first: {line!r}"
            current.lines.append(line)
            continue
        if current is not None:
            yield current
        when = datetime.strptime(found["time"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
        current = Message(int(found["pid"]), when, found["severity"], [line])
    if current is not None:
        yield current


def syslog_pieces(text: str) -> Iterator[str]:
    """The pieces ``write_syslog`` cuts a message's text into: each line, and a line longer
    than the limit at its last space before it (the space starts the next piece)."""
    rest = text
    while rest:
        if rest[0] == "\n":
            rest = rest[1:]
            continue
        end = rest.find("\n")
        piece = rest[: end if end >= 0 else len(rest)].encode()[:SYSLOG_LIMIT].decode(
            "utf-8", "ignore")
        cut = len(piece)
        if cut < len(rest) and not rest[cut].isspace():
            space = max(piece.rfind(" "), piece.rfind("\t"))
            if space > 0:
                cut = space
        yield rest[:cut]
        rest = rest[cut:]


def syslog_lines(stderr: Path) -> Iterator[tuple[Message, str]]:
    """``[seq-chunk] piece`` as PostgreSQL hands each piece to syslog() (sequence numbers on,
    its default), with the message it belongs to."""
    seq: Counter[int] = Counter()
    for message in messages(stderr):
        seq[message.pid] += 1
        for chunk, piece in enumerate(syslog_pieces(message.text), 1):
            yield message, f"[{seq[message.pid]}-{chunk}] {piece}"


def iso(when: datetime) -> str:
    return when.isoformat(timespec="microseconds")


def write_syslog_files(stderr: Path, out: Path) -> dict[str, Path]:
    """The main log through syslog daemons: rsyslog's traditional file format (BSD header,
    control characters escaped: a tab is ``#011``), its high-precision ISO 8601 one, and an
    RFC 5424 one (facility local0); and through Heroku's logplex (``heroku logs``: the
    dyno ``postgres.<pid>``, the attachment's name before the piece)."""
    shapes: dict[str, Callable[[Message, str], str]] = {
        "syslog-bsd": lambda m, p: (f"{m.time:%b} {m.time.day:2d} {m.time:%H:%M:%S} {HOST} "
                                    f"postgres[{m.pid}]: " + p.replace("\t", "#011")),
        "syslog-iso": lambda m, p: f"{iso(m.time)} {HOST} postgres[{m.pid}]: {p}",
        "syslog-5424": lambda m, p: (f"<{16 * 8 + SYSLOG_LEVEL.get(m.severity, 6)}>1 "
                                     f"{iso(m.time)} {HOST} postgres {m.pid} - - {p}"),
        # Heroku Postgres: the server's syslog pieces, tagged with the database's attachment
        "logplex": lambda m, p: f"{iso(m.time)} app[postgres.{m.pid}]: [DATABASE] {p}",
    }
    paths = {}
    for name, shape in shapes.items():
        path = out / f"{name}.log"
        with path.open("w", encoding="utf-8") as fh:
            for message, piece in syslog_lines(stderr):
                fh.write(shape(message, piece) + "\n")
        paths[name] = path
    return paths


def write_cloud(stderr: Path, path: Path) -> Path:
    """Google Cloud Logging entries (a sink's JSON lines), one per prefixed line of the log
    with its continuation lines, in ``textPayload`` as Cloud SQL gives them."""
    with path.open("w", encoding="utf-8") as fh:
        for number, message in enumerate(messages(stderr)):
            entries: list[list[str]] = []
            for line in message.lines:
                if line.startswith("\t") and entries:
                    entries[-1].append(line)
                else:
                    entries.append([line])
            for part, lines in enumerate(entries):
                fh.write(json.dumps({
                    "insertId": f"s{number}p{part}", "logName":
                    "projects/lab/logs/cloudsql.googleapis.com%2Fpostgres.log",
                    "receiveTimestamp": iso(message.time).replace("+00:00", "Z"),
                    "resource": {"type": "cloudsql_database", "labels": {
                        "database_id": "lab:db-lab-1", "project_id": "lab", "region": "eu"}},
                    "severity": CLOUD_SEVERITY.get(message.severity, "DEFAULT"),
                    "textPayload": "\n".join(lines),
                    "timestamp": iso(message.time).replace("+00:00", "Z"),
                }) + "\n")
    return path


def write_cnpg(csvlog: Path, path: Path) -> Path:
    """CloudNativePG's instance manager's lines: each csvlog row's fields under ``record``."""
    with path.open("w", encoding="utf-8") as fh:
        for row in csv_rows(csvlog):
            record = dict(zip(CSV_FIELDS, row, strict=False))
            when = datetime.strptime(row[0], "%Y-%m-%d %H:%M:%S.%f %Z").replace(tzinfo=UTC)
            fh.write(json.dumps({
                "level": "info", "ts": iso(when).replace("+00:00", "Z"), "logger": "postgres",
                "msg": "record", "logging_pod": "cluster-lab-1", "record": record,
            }) + "\n")
    return path


def compress(source: Path, out: Path, skipped: dict[str, str]) -> dict[str, Path]:
    """``source`` gzip-, bzip2-, xz- and (where the module exists) zstd-compressed."""
    data = source.read_bytes()
    paths = {}
    for name, pack in (("gz", gzip.compress), ("bz2", bz2.compress), ("xz", lzma.compress)):
        paths[name] = out / f"{source.name}.{name}"
        paths[name].write_bytes(pack(data))
    pack_zstd = zstd_compressor()
    if pack_zstd is None:
        skipped["zst"] = ("no zstd module (Python 3.14's compression.zstd, backports.zstd or "
                          "zstandard): uv add backports-zstd")
    else:
        paths["zst"] = out / f"{source.name}.zst"
        paths["zst"].write_bytes(pack_zstd(data))
    return paths


def zstd_compressor() -> Callable[[bytes], bytes] | None:
    """A zstd compressor from whichever module this Python has, or None."""
    for name in ("compression.zstd", "backports.zstd"):
        try:
            return cast("Callable[[bytes], bytes]", importlib.import_module(name).compress)
        except ImportError:
            continue
    try:
        import zstandard  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return cast("Callable[[bytes], bytes]", zstandard.ZstdCompressor().compress)


def wrap_all(stderr: Path, csvlog: Path, out: Path, skipped: dict[str, str]) -> dict[str, Path]:
    """Every wrapped and compressed form of the main log, by name."""
    out.mkdir(parents=True, exist_ok=True)
    paths = write_syslog_files(stderr, out)
    paths["cloud"] = write_cloud(stderr, out / "cloud.json")
    paths["cnpg"] = write_cnpg(csvlog, out / "cnpg.json")
    paths.update(compress(stderr, out, skipped))
    csv_gz = out / f"{csvlog.name}.gz"
    csv_gz.write_bytes(gzip.compress(csvlog.read_bytes()))
    paths["csv-gz"] = csv_gz
    return paths
