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

# Probe modules register themselves on import; the parts' order (model.parts) is run order.
from pgcrisis.collect import (  # noqa: F401
    probe_activity,
    probe_cron,
    probe_health,
    probe_index_advice,
    probe_load,
    probe_matviews,
    probe_plans,
    probe_relations,
    probe_statements,
    sampler,
)
from pgcrisis.collect.load_frames import FrameLoad
from pgcrisis.collect.load_window import OpenSession, Window
from pgcrisis.collect.probe import (
    PROBES,
    UNREADABLE,
    ProbeContext,
    ProbeOptions,
    missing_probes,
    unavailable_reason,
)
from pgcrisis.collect.server import read_clock, read_server
from pgcrisis.errors import ConnectError, ProbeUnavailable, first_line
from pgcrisis.model.parts import (
    LOAD,
    PARTS,
    SAMPLE,
    SERVER_PARTS,
    STATEMENTS,
    Cadence,
    Part,
    fields_of,
    names,
)
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot

if missing_probes():  # a part declared without its probe: every snapshot would lack it
    raise ImportError(f"no probe reads the parts {missing_probes()}")


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
            parts: Collection[Part] | None = None, sample_s: float = 0.0,
            server: ServerInfo | None = None, second_session: OpenSession | None = None,
            frames: FrameLoad | None = None) -> Snapshot:
    """Read every part (or only ``parts``); a part that cannot be read is recorded with the
    reason, not raised. ``server`` reuses facts read before on this session (the recorder
    reads them once a minute, not every second).

    With ``sample_s``, the load window is watched that long (the ``load`` and ``sample``
    parts): on a session ``second_session`` opens, in a thread, while the other probes run
    (without it, on this session, when the ``load`` part's turn comes). Without a window,
    ``frames`` builds a recording's frame profile for the ``load`` part."""
    queries = 2 if server is None else 1
    if server is None:
        server = read_server(conn)
    server_time, started_at = read_clock(conn)
    wanted = PARTS if parts is None else [p for p in PARTS if p in parts]
    window = None
    if sample_s > 0 and (LOAD in wanted or SAMPLE in wanted):
        window = Window(second_session, server, sample_s).start()
    ctx = ProbeContext(conn=conn, server=server, options=options or ProbeOptions(),
                       queries=queries, sample_s=sample_s, window=window, frames=frames,
                       full_pass=STATEMENTS in wanted)
    fields: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    for part in wanted:
        if part.cadence is Cadence.ON_REQUEST and sample_s <= 0:
            continue
        spec = PROBES[part]
        part_fields = _read(part.name, lambda spec=spec: spec.read(ctx),  # type: ignore[misc]
                            unavailable)
        if part_fields is None:
            continue
        fields.update(part_fields)
        ctx.collected[part.name] = part_fields
    return Snapshot(
        server=server,
        taken_at=datetime.now(UTC),
        unavailable=unavailable,
        query_count=ctx.queries,
        server_time=server_time,
        server_started_at=started_at,
        **fields,
    )


def with_parts(snapshot: Snapshot, source: Snapshot, parts: Collection[Part]) -> Snapshot:
    """``snapshot`` with the fields of ``parts`` as ``source`` read them, and ``source``'s
    reasons for any of them it could not read."""
    taken = names(parts)
    unavailable = {**{p: r for p, r in source.unavailable.items() if p in taken},
                   **snapshot.unavailable}
    return replace(snapshot, unavailable=unavailable, **fields_of(source, parts))


def with_server_parts(snapshot: Snapshot, primary: Snapshot) -> Snapshot:
    """``snapshot`` (of another database, per-database parts only) completed with the
    server-wide parts of ``primary``, marked as not primary."""
    return replace(with_parts(snapshot, primary, SERVER_PARTS), primary=False)
