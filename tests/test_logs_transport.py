"""Where the log's bytes come from (:mod:`pgcrisis.logs.sources`) and what the server's
lines are (:mod:`pgcrisis.logs.detect`): compression by content, not name; bad input said
in one line; stdin; directories in the order written; the format of real server lines."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pgcrisis.errors import InputError
from pgcrisis.logs.detect import payload_format
from pgcrisis.logs.record import Line
from pgcrisis.logs.sources import Input, inputs
from tests.logs_server import ServerLog, server_log  # noqa: F401 (a fixture)

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress,
    "zstd": zstd.compress,
}
#: a name that says nothing, or the wrong thing, about the content
MISNAMED = {"gzip": "log.xz", "bzip2": "postgresql.log", "xz": "x.gz", "zstd": "log.csv.log"}


def _text(server_log: ServerLog) -> bytes:  # noqa: F811
    return ("\n".join(server_log.stderr) + "\n").encode()


def _read(path: str) -> list[tuple[int, str]]:
    return [line for found in inputs([path]) for line in found.lines()]


@pytest.mark.parametrize("kind", COMPRESSORS)
def test_compression_is_recognised_by_content_whatever_the_name(
        kind: str, server_log: ServerLog, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / MISNAMED[kind]
    data = COMPRESSORS[kind](_text(server_log))
    path.write_bytes(data)
    [found] = inputs([str(path)])
    lines = list(found.lines())
    assert found.compression == kind
    assert [t for _, t in lines] == server_log.stderr
    assert [n for n, _ in lines] == list(range(1, len(lines) + 1))
    assert found.size == found.position() == len(data)  # progress counts bytes on disk


def test_plain_text_named_gz_is_read_as_text(server_log: ServerLog, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "postgresql.log.gz"
    path.write_bytes(_text(server_log))
    assert [t for _, t in _read(str(path))] == server_log.stderr


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz", "zstd"])
def test_a_truncated_archive_is_one_line_naming_the_line_reached(
        kind: str, server_log: ServerLog, tmp_path: Path) -> None:  # noqa: F811
    # enough lines, and varied, that the cut falls after the first one (zstd and bzip2
    # decode by blocks of 128 and 900 kB)
    text = "".join(f"{line} -- {i * 7919 % 100003}\n"
                   for i in range(300) for line in server_log.stderr)
    data = COMPRESSORS[kind](text.encode())
    path = tmp_path / "cut"
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError) as caught:
        _read(str(path))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {kind} archive cut short after line ")
    reached = re.search(r"after line ([\d,]+), expected the end of its", message)
    assert reached is not None and int(reached[1].replace(",", "")) > 0


def test_a_binary_file_is_refused_with_what_was_found(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(Path(sys.executable).resolve().read_bytes()[:4096])
    with pytest.raises(InputError) as caught:
        _read(str(path))
    assert str(caught.value) == (
        f"{path}: binary content (first bytes 7f 45 4c 46), expected a PostgreSQL log"
        " (text, or gzip/bzip2/xz/zstd)")


def test_binary_content_inside_an_archive_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "core.gz"
    path.write_bytes(gzip.compress(b"\x00\x01\x02\x03" * 100))
    with pytest.raises(InputError, match=r"binary content inside gzip \(first bytes 00 01"):
        _read(str(path))


def test_a_missing_path_and_an_empty_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        list(inputs([str(tmp_path / "nowhere.log")]))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="an empty directory"):
        list(inputs([str(tmp_path / "empty")]))


def test_a_directory_is_read_oldest_first_then_by_name(tmp_path: Path) -> None:
    names = {"postgresql-b.log": 300, "postgresql-a.log": 100, "postgresql-c.log.gz": 200,
             "same-time-2.log": 400, "same-time-1.log": 400}
    for name, mtime in names.items():
        data = f"{name}\n".encode()
        (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        os.utime(tmp_path / name, (mtime, mtime))
    (tmp_path / "archive").mkdir()  # not descended
    (tmp_path / "archive" / "old.log").write_text("old\n")
    found = list(inputs([str(tmp_path)]))
    assert [Path(f.name).name for f in found] == [
        "postgresql-a.log", "postgresql-c.log.gz", "postgresql-b.log",
        "same-time-1.log", "same-time-2.log"]
    assert [t for f in found for _, t in f.lines()] == [Path(f.name).name for f in found]


def test_undecodable_bytes_are_replaced_and_newlines_stripped(tmp_path: Path) -> None:
    path = tmp_path / "latin1.log"
    path.write_bytes(b"caf\xe9 LOG:  one\r\ntwo\n\nlast without newline")
    assert _read(str(path)) == [(1, "caf\ufffd LOG:  one"), (2, "two"), (3, ""),
                                (4, "last without newline")]


def test_stdin_is_read_as_bytes_compressed_or_not(
        server_log: ServerLog, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    for data in (_text(server_log), gzip.compress(_text(server_log))):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        [found] = inputs(["-"])
        assert (found.name, found.size) == ("stdin", None)
        assert [t for _, t in found.lines()] == server_log.stderr
        assert found.position() == len(data)


def test_stdin_of_a_real_process(server_log: ServerLog) -> None:  # noqa: F811
    """A pipe, not a file: no size, no seeking, read once."""
    code = ("from pgcrisis.logs.sources import inputs\n"
            "print(sum(1 for i in inputs(['-']) for _ in i.lines()))")
    out = subprocess.run([sys.executable, "-c", code], input=lzma.compress(_text(server_log)),
                         capture_output=True, check=True)
    assert int(out.stdout) == len(server_log.stderr)


def test_the_format_of_real_server_lines(server_log: ServerLog) -> None:  # noqa: F811
    def lines(texts: list[str]) -> list[Line]:
        return [Line(t, n, "f") for n, t in enumerate(texts, 1)]

    assert payload_format(lines(server_log.stderr)) == "stderr"
    assert payload_format(lines(server_log.csvlog)) == "csvlog"
    # a sample that starts inside a csvlog record still reads as csvlog
    assert payload_format(lines(server_log.csvlog[2:])) == "csvlog"
    if server_log.jsonlog:
        assert payload_format(lines(server_log.jsonlog)) == "jsonlog"
    fields = dict(zip(("log_time", "user_name"), server_log.csv_rows()[0], strict=False))
    assert payload_format([Line("", 1, "f", fields=fields)]) == "csvlog"
    assert payload_format([Line("", 1, "f", fields={"timestamp": "x",
                                                     "error_severity": "LOG"})]) == "jsonlog"
    assert payload_format([]) == payload_format(lines(["", "  "])) == ""


def test_input_can_be_read_again(tmp_path: Path) -> None:
    path = tmp_path / "twice.log"
    path.write_text("one\ntwo\n")
    found = Input(str(path), path, path.stat().st_size)
    assert list(found.lines()) == list(found.lines()) == [(1, "one"), (2, "two")]
