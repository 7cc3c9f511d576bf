"""A frame row as the stores keep it: time, kind, worst finding, what it read, and the age
references of its clocked fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pgcrisis.model.findings import Severity
from pgcrisis.store._clocks import Refs
from pgcrisis.store._codec import dumps, loads
from pgcrisis.store._thinning import FULL, FrameInfo

_KINDS = {"fast": 0, "full": FULL}


def kind_code(kind: str) -> int:
    """The stored code of a frame kind (``fast`` 0, ``full`` 1)."""
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown frame kind {kind!r} (fast or full)") from None


def worst_code(worst: Severity | None) -> int | None:
    """The stored rank of a frame's worst severity (``None``: nothing above info)."""
    return None if worst is None or worst is Severity.INFO else worst.rank


def pack_refs(refs: Mapping[int, Refs], t: int) -> bytes | None:
    """The frame's references, each as its distance from the frame's time (small) and XID."""
    if not refs:
        return None
    return dumps({fid: [r.seconds_us - t, r.xid] for fid, r in refs.items()})


def pack_unavailable(unavailable: Mapping[str, str]) -> bytes | None:
    return dumps(dict(unavailable)) if unavailable else None


@dataclass(frozen=True, slots=True)
class StoredFrame:
    """One row of ``frames``."""

    t: int
    kind: int
    worst: int | None
    seen: int
    unavailable: Mapping[str, str]
    refs: Mapping[int, Refs]

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> StoredFrame:
        """From ``t, kind, worst, seen, unavailable, refs`` as selected."""
        t, kind, worst, seen, unavailable, refs = row
        t = int(t)
        return cls(
            t, int(kind), None if worst is None else int(worst), int(seen),
            loads(bytes(unavailable)) if unavailable is not None else {},
            {int(fid): Refs(t + delta, xid) for fid, (delta, xid) in
             (loads(bytes(refs)) if refs is not None else {}).items()})

    @property
    def info(self) -> FrameInfo:
        return FrameInfo(self.t, self.kind, self.worst, self.seen)

    def sees(self, fid: int) -> bool:
        """Whether this frame read field ``fid``."""
        return bool(self.seen & (1 << fid))

    def refs_of(self, fid: int) -> Refs:
        """The references field ``fid`` was stored against here."""
        return self.refs.get(fid, Refs(self.t, 0))
