"""Following the server's log directory as the server writes and rotates its files: the newest
file of the format is read from where it was left (from its end when following starts), a
newer file taken up from its start once the older one is read to its end."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from pgcrisis.errors import ConfigError, InputError
from pgcrisis.logs.counts import LogCounts, tally
from pgcrisis.logs.parse import FORMATS, LogRecord, StderrLog, csvlog, detect, jsonlog
from pgcrisis.store import StoreWriter

_SUFFIX = {"jsonlog": (".json",), "csvlog": (".csv",), "stderr": (".log", "")}


class LogFollower:
    """Reads new errors from the log files in ``folder`` (``fmt``: jsonlog, csvlog, stderr or
    auto; stderr needs ``prefix``, the server's ``log_line_prefix``)."""

    def __init__(self, folder: str | Path, fmt: str = "auto", prefix: str | None = None) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ConfigError(f"--log {folder}: no such directory")
        names = [p.name for p in self.folder.iterdir() if p.is_file()]
        self.format = detect(names) if fmt == "auto" else fmt
        if self.format not in FORMATS:
            raise ConfigError(f"--log-format {fmt}: give one of auto, {', '.join(FORMATS)}")
        self.stderr: StderrLog | None = None
        if self.format == "stderr":
            if not prefix:
                raise ConfigError("a stderr log is read only with its log_line_prefix: give "
                                  "--log-line-prefix (or log in jsonlog or csvlog)")
            self.stderr = StderrLog(prefix)
        self.path: Path | None = None
        self.offset = 0
        self._tail = ""
        newest = self._files()[-1:] if self._files() else []
        if newest:
            self.path = newest[0]
            text = self.path.read_text(errors="replace")
            self._check(text)
            self.offset = self.path.stat().st_size

    def _files(self) -> list[Path]:
        suffixes = _SUFFIX[self.format]
        files = [p for p in self.folder.iterdir() if p.is_file() and (
            p.suffix in suffixes if "" not in suffixes else p.suffix not in (".json", ".csv"))]
        return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))

    def _check(self, text: str) -> None:
        """Refuse a log this follower cannot read (one line, before any recording)."""
        lines = text.splitlines()[-200:]
        if self.stderr is not None:
            self.stderr.verify(lines)
        elif self.format == "jsonlog":
            list(jsonlog(lines[-20:]))
        elif lines:
            start = text.rfind("\n", 0, max(0, len(text) - 4000))
            try:
                list(csvlog(text[start + 1:] if start > 0 else text))
            except InputError:
                raise
            except ValueError as exc:
                raise InputError(f"not a csvlog file: {exc}") from None

    def _parse(self, text: str) -> Iterator[LogRecord]:
        if self.format == "jsonlog":
            yield from jsonlog(text.splitlines())
        elif self.format == "csvlog":
            yield from csvlog(text)
        else:
            assert self.stderr is not None
            yield from self.stderr.records(text.splitlines())

    def poll(self) -> LogCounts:
        """The error and slow-statement counts of what was written since the last poll."""
        records: list[LogRecord] = []
        files = self._files()
        if self.path is None and files:
            self.path, self.offset = files[0], 0
        while self.path is not None:
            records += self._read_new()
            later = [p for p in files if p != self.path and
                     (p.stat().st_mtime, p.name) > (self.path.stat().st_mtime, self.path.name)]
            if not later:
                break
            self.path, self.offset, self._tail = later[0], 0, ""
            files = self._files()
        return tally(records)

    def _read_new(self) -> list[LogRecord]:
        assert self.path is not None
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        text = self._tail + chunk.decode(errors="replace")
        cut = text.rfind("\n") + 1
        complete, self._tail = text[:cut], text[cut:]
        if self.format == "csvlog" and complete.count('"') % 2:
            # a record with a newline in a field is not complete yet
            last = complete.rstrip("\n").rfind("\n") + 1
            complete, self._tail = complete[:last], complete[last:] + self._tail
        self.offset += len(chunk)
        return list(self._parse(complete))


def follow(follower: LogFollower, writer: StoreWriter, stop: threading.Event,
           every_s: float = 1.0) -> threading.Thread:
    """Poll in a thread until ``stop`` is set, writing each poll's counts."""
    def write(counts: LogCounts) -> None:
        writer.log_errors(counts.errors)
        writer.log_slow(counts.slow)

    def run() -> None:
        while not stop.wait(every_s):
            write(follower.poll())
        write(follower.poll())

    thread = threading.Thread(target=run, name="log-follower", daemon=True)
    thread.start()
    return thread
