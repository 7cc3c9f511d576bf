"""Where the log's bytes come from: files, directories (their log files, oldest first), stdin
(``-``); compressed ones (gzip, bzip2, xz, zstd) recognised by content, not by name.

STUB (interface only, filled by the transport work): plain files, no decompression.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Input:
    """One input: ``name`` as shown to people, ``size`` in bytes where known (progress)."""

    name: str
    path: Path | None
    size: int | None

    def lines(self) -> Iterator[tuple[int, str]]:
        """``(line number, text without its newline)`` of the decoded content."""
        assert self.path is not None
        with self.path.open(encoding="utf-8", errors="replace", newline="\n") as f:
            for number, text in enumerate(f, 1):
                yield number, text.rstrip("\r\n")


def inputs(paths: Sequence[str]) -> Iterator[Input]:
    """The inputs ``paths`` name, in the order to read them."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for child in sorted(c for c in path.iterdir() if c.is_file()):
                yield Input(str(child), child, child.stat().st_size)
        else:
            yield Input(str(path), path, path.stat().st_size)
