"""Run every probe over one safe session and assemble the immutable :class:`Snapshot`.

``--all-databases`` reads the per-database parts again in each other database
(:func:`collect` with ``parts``) and lends those snapshots the server-wide parts of the first
one (:func:`with_server_parts`), so server-wide facts are read once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import psycopg

# Probe modules register themselves on import; the order here is the run order.
from pgcrisis.collect import (  # noqa: F401
    probe_activity,
    probe_cron,
    probe_health,
    probe_matviews,
    probe_relations,
    probe_statements,
)
from pgcrisis.collect.probe import (
    PROBES,
    UNREADABLE,
    ProbeContext,
    ProbeOptions,
    unavailable_reason,
)
from pgcrisis.collect.sampler import take_sample
from pgcrisis.collect.server import read_clock, read_server
from pgcrisis.errors import ConnectError, ProbeUnavailable, first_line
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import SERVER_PARTS, Snapshot

#: Snapshot fields filled by server-wide parts (``SERVER_PARTS``): lent to the snapshots of
#: the other databases of ``--all-databases`` instead of being read again there
SERVER_FIELDS = ("activity", "transactions", "lock_counts", "lock_waits", "strong_locks",
                 "prepared", "server_health", "sample")




def _read(part: str, read: Callable[[], Mapping[str, Any]],
          unavailable: dict[str, str]) -> Mapping[str, Any] | None:
    """Run one probe; record why it could not run instead of raising (but a lost connection
    ends the pass)."""
    try:
        return read()
    except ProbeUnavailable as exc:
        unavailable[part] = exc.reason
    except UNREADABLE as exc:
        unavailable[part] = unavailable_reason(exc)
    except psycopg.OperationalError as exc:
        raise ConnectError(f"lost the connection while reading {part}: "
                           f"{first_line(exc)}") from None
    except psycopg.Error as exc:
        unavailable[part] = unavailable_reason(exc)
    return None


def collect(conn: psycopg.Connection[Any], options: ProbeOptions | None = None, *,
            parts: Collection[str] | None = None, sample_s: float = 0.0,
            server: ServerInfo | None = None) -> Snapshot:
    """Read every part (or only ``parts``); a part that cannot be read is recorded with the
    reason, not raised. With ``sample_s``, also watch call rates over that many seconds.
    ``server`` reuses facts read before on this session (the recorder reads them once a
    minute, not every second)."""
    queries = 2 if server is None else 1
    if server is None:
        server = read_server(conn)
    server_time, started_at = read_clock(conn)
    ctx = ProbeContext(conn=conn, server=server, options=options or ProbeOptions(),
                       queries=queries)
    fields: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    for spec in PROBES.values():
        if parts is not None and spec.part not in parts:
            continue
        part_fields = _read(spec.part, lambda spec=spec: spec.func(ctx),  # type: ignore[misc]
                            unavailable)
        if part_fields is None:
            continue
        fields.update(part_fields)
        ctx.collected[spec.part] = part_fields
    if sample_s > 0 and (parts is None or "sample" in parts):
        sampled = _read("sample", lambda: {"sample": take_sample(ctx, sample_s)}, unavailable)
        if sampled is not None:
            fields.update(sampled)
    return Snapshot(
        server=server,
        taken_at=datetime.now(UTC),
        unavailable=unavailable,
        query_count=ctx.queries,
        server_time=server_time,
        server_started_at=started_at,
        **fields,
    )


def with_server_parts(snapshot: Snapshot, primary: Snapshot) -> Snapshot:
    """``snapshot`` (of another database, per-database parts only) completed with the
    server-wide parts of ``primary``, marked as not primary."""
    lent = {name: getattr(primary, name) for name in SERVER_FIELDS}
    unavailable = {**{p: r for p, r in primary.unavailable.items() if p in SERVER_PARTS},
                   **snapshot.unavailable}
    return replace(snapshot, primary=False, unavailable=unavailable, **lent)
