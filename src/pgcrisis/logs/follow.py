"""Following the server's log directory as the server writes and rotates its files (``record
--log``), with the same parsers as a file is read with: the newest file of the format (told
by content, not by name) is read from where it was left (from its end when following
starts), a newer file taken up from its start once the older one is read to its end.

A record still pending when what was written is read (a FATAL whose backend then exited) is
given at the next poll that finds the file quiet; a line or csvlog row still being written
waits for its rest.
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Callable
from pathlib import Path

from pgcrisis.errors import ConfigError
from pgcrisis.logs import detect
from pgcrisis.logs.counts import LogCounts, tally
from pgcrisis.logs.parser import Parser
from pgcrisis.logs.prefix import Prefix
from pgcrisis.logs.read import make_parser
from pgcrisis.logs.record import FORMATS, Line, LogRecord
from pgcrisis.logs.stderr import StderrParser
from pgcrisis.store import StoreWriter

#: the first bytes of compressed files (rotated logs, not followed)
_COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")
_HEAD = 65536


def _head_lines(path: Path, most: int = 200, tail: bool = False) -> list[Line]:
    """The first lines of ``path`` (``tail``: its last ones, where following starts; a
    compressed file has none)."""
    try:
        with path.open("rb") as f:
            head = f.read(4)
            if tail:
                f.seek(max(0, f.seek(0, 2) - _HEAD))
            data = head + f.read(_HEAD) if not tail else f.read(_HEAD)
    except OSError:
        return []
    if head.startswith(_COMPRESSED):
        return []
    lines = data.decode("utf-8", errors="replace").split("\n")[:-1]  # the last: not ended
    if tail and len(data) >= _HEAD:  # the first: cut by the read
        lines = lines[1:]
    lines = lines[-most:] if tail else lines[:most]
    return [Line(t.rstrip("\r"), n, path.name) for n, t in enumerate(lines, 1)]


class LogFollower:
    """Reads new errors from the log files in ``folder`` (``fmt``: jsonlog, csvlog, stderr or
    auto; a stderr log is read with ``prefix``, else ``server_prefix()``, else the one
    inferred from its lines)."""

    def __init__(self, folder: str | Path, fmt: str = "auto", prefix: str | None = None,
                 server_prefix: Callable[[], str] | None = None) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ConfigError(f"--log {folder}: no such directory")
        if fmt != "auto" and fmt not in FORMATS:
            raise ConfigError(f"--log-format {fmt}: give one of auto, {', '.join(FORMATS)}")
        self._formats: dict[Path, tuple[int, str]] = {}
        files = self._files()
        found = {f for _, f in files}
        self.format = fmt if fmt != "auto" else next(
            (f for f in detect.PREFERRED if f in found), "stderr")
        mine = [p for p, f in files if f == self.format]
        self.path: Path | None = mine[-1] if mine else None
        sample = _head_lines(self.path, tail=True) if self.path is not None else []
        source = "given"
        if self.format == "stderr" and prefix is None and server_prefix is not None:
            prefix, source = server_prefix(), "server"
            if sample and not Prefix(prefix).matches([x.text for x in sample]):
                prefix, source = None, "inferred"  # the server's prefix changed since
        if self.format == "stderr" and not sample and prefix is None:
            raise ConfigError("a stderr log is read with its log_line_prefix: give "
                              "--log-line-prefix (no line to infer it from yet)")
        self.parser: Parser = make_parser(self.format, sample, prefix, source)
        #: a stderr log's prefix (what its lines carry: ``knows_sqlstate``)
        self.stderr: Prefix | None = (self.parser.prefix if isinstance(
            self.parser, StderrParser) else None)
        self.offset = self._line_end(self.path) if self.path is not None else 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._tail = ""
        self._number = 0

    def _files(self) -> list[tuple[Path, str]]:
        """The log files (not compressed) and their format, oldest first."""
        out = []
        for p in self.folder.iterdir():
            try:
                stat = p.stat()
            except OSError:
                continue
            if not p.is_file():
                continue
            known = self._formats.get(p)
            if known is None or known[0] != stat.st_ino:
                head = _head_lines(p, 50)
                if not head:
                    continue  # no line ended yet: its format is told once there is one
                known = self._formats[p] = (stat.st_ino, detect.payload_format(head))
            if known[1]:
                out.append((stat.st_mtime, p.name, p, known[1]))
        return [(p, f) for _, _, p, f in sorted(out)]

    @staticmethod
    def _line_end(path: Path) -> int:
        """Where following starts: after the last complete line."""
        size = path.stat().st_size
        with path.open("rb") as f:
            f.seek(max(0, size - _HEAD))
            tail = f.read()
        return size - len(tail) + tail.rfind(b"\n") + 1 if b"\n" in tail else size

    def poll_records(self) -> list[LogRecord]:
        """The records of what was written since the last poll."""
        records: list[LogRecord] = []
        while True:
            mine = [p for p, f in self._files() if f == self.format]
            if self.path is None:
                if not mine:
                    return records
                self.path, self.offset = mine[0], 0
                self.parser.file = self.path.name
            read_any = self._read_new()
            later = mine[mine.index(self.path) + 1:] if self.path in mine else []
            if later:  # rotated: the older file is read to its end
                records += self.parser.drain(end=True)
                self.path, self.offset, self._tail, self._number = later[0], 0, "", 0
                self.parser.file = self.path.name
                continue
            records += self.parser.drain(end=not read_any and self.format == "stderr")
            return records

    def poll(self) -> LogCounts:
        """The error and slow-statement counts of what was written since the last poll."""
        return tally(self.poll_records())

    def _read_new(self) -> bool:
        """Feed the complete lines written since the last read; False: nothing new."""
        assert self.path is not None
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return False
        if not chunk:
            return False
        self.offset += len(chunk)
        text = self._tail + self._decoder.decode(chunk)
        lines = text.split("\n")
        self._tail = lines.pop()  # a line not ended yet waits for its rest
        feed = self.parser.feed
        for line in lines:
            self._number += 1
            feed(line.rstrip("\r"), self._number)
        self.parser.lines_seen += len(lines)
        return True


def follow(follower: LogFollower, writer: StoreWriter, stop: threading.Event,
           every_s: float = 1.0) -> threading.Thread:
    """Poll in a thread until ``stop`` is set, writing each poll's counts."""
    def write(counts: LogCounts) -> None:
        writer.log_errors(counts.errors)
        writer.log_slow(counts.slow)

    def run() -> None:
        while not stop.wait(every_s):
            write(follower.poll())
        # at the end, what is still pending is given: nothing more will complete it
        write(tally([*follower.poll_records(),
                     *follower.parser.drain(end=follower.format == "stderr")]))

    thread = threading.Thread(target=run, name="log-follower", daemon=True)
    thread.start()
    return thread
