"""Writer and reader processes for the recording-store tests (run with ``python -m``).

``write SPEC``: append frames to recording ``main`` forever, printing each frame's number once
it is committed (the test kills it with SIGKILL while it writes).
``read SPEC SECONDS``: read the latest snapshot again and again, opening the store anew
every few reads; print ``reads=N errors=M`` and the first error, exit 1 on any error.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta

from pgcrisis.model.activity import PreparedXact, Transactions
from pgcrisis.store import open_store
from tests.record_helpers import T0, backend, frame


def _fields(i: int) -> dict[str, object]:
    """A frame's worth of sessions, many new in each frame (so every frame writes rows)."""
    sessions = tuple(backend(1000 + i * 40 + k, state="idle in transaction", age=2.0,
                             query=f"update jobs set state = 'done' where id = {i}-{k}")
                     for k in range(40))
    return {"activity": sessions, "transactions": Transactions(10 * i, 0),
            "prepared": (PreparedXact(f"xa-{i}", "app", "app", 1.5, 1000 + i),)}


def write(spec: str) -> None:
    store = open_store(spec, create=True)
    writer = store.writer("main", source="writer process")
    start = store.coverage("main")
    i = 0 if start is None else int((start[1] - T0).total_seconds()) + 1
    while True:
        writer.append(frame(T0 + timedelta(seconds=i), _fields(i)))
        print(i, flush=True)
        i += 1


def read(spec: str, seconds: float) -> int:
    reads = errors = 0
    first: str | None = None
    deadline = time.monotonic() + seconds
    store = open_store(spec, create=False)
    while time.monotonic() < deadline:
        try:
            if reads % 20 == 0:
                store.close()
                store = open_store(spec, create=False)
            cover = store.coverage("main")
            if cover is not None:
                snap = store.snapshot_at("main", cover[1])
                assert snap is not None
            reads += 1
        except Exception as exc:  # every failure counts, whatever it is
            errors += 1
            first = first or f"{type(exc).__name__}: {exc}"
    store.close()
    print(f"reads={reads} errors={errors}" + (f" first={first}" if first else ""), flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        sys.exit(read(sys.argv[2], float(sys.argv[3])))
